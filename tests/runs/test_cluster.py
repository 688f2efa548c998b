"""A real deployment on loopback: two `gunicorn wsgi:app` and two `feeds schedule` processes
against one PostgreSQL. One scheduler ingests, the other waits and takes over when the
leader is SIGKILLed; both web processes serve the same validators after each ingest."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import PROJECT, SAMPLE_DUMPS, wait_for
from tests.runs.test_gunicorn import free_port, wait_until_up

INTERVAL = 2.0


class Process:
    """A child process whose stderr lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            args, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.popen.stderr:
            self.lines.append(line.rstrip())

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()


@pytest.fixture
def cluster(postgres_url: str, tmp_path: Path) -> Iterator[dict]:
    dump = tmp_path / "news.txt"
    shutil.copy(SAMPLE_DUMPS[0], dump)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")},
        "FEEDS_DATABASE_URL": postgres_url,
        "FEEDS_DUMPS": str(dump),
        "FEEDS_INGEST_INTERVAL": str(INTERVAL),
        "FEEDS_FOLLOW": "false",
        "FEEDS_SITE_URL": "http://feeds.test",  # one public name for both web processes
    }
    processes: list[Process] = []
    try:
        first = Process([sys.executable, "-m", "feeds", "schedule"], env)
        processes.append(first)
        assert wait_for(lambda: first.said("this process leads"), 20), first.lines
        second = Process([sys.executable, "-m", "feeds", "schedule"], env)
        processes.append(second)
        assert wait_for(lambda: second.said("another process leads"), 20), second.lines
        webs = []
        for _ in range(2):
            port = free_port()
            web = Process(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "wsgi:app",
                    "-b",
                    f"127.0.0.1:{port}",
                    "-w",
                    "2",
                ],
                env,
            )
            processes.append(web)
            wait_until_up(f"http://127.0.0.1:{port}/healthz", web.popen)
            webs.append(f"http://127.0.0.1:{port}")
        yield {"dump": dump, "leader": first, "waiting": second, "webs": webs}
    finally:
        for process in processes:
            process.stop()


def etags(webs: list[str]) -> list[str]:
    return [requests.get(f"{web}/all.atom", timeout=5).headers["ETag"] for web in webs]


def edit(dump: Path, old: str, new: str) -> None:
    text = dump.read_text(encoding="utf-8")
    assert old in text
    dump.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.postgres
@pytest.mark.slow
def test_one_scheduler_leads_and_hands_over(cluster: dict) -> None:
    webs, leader, waiting = cluster["webs"], cluster["leader"], cluster["waiting"]
    assert wait_for(lambda: requests.get(f"{webs[0]}/healthz", timeout=5).json()["items"] == 19, 10)
    assert leader.said("ingest ") and not waiting.said("ingest ")
    first = etags(webs)
    assert first[0] == first[1]

    edit(cluster["dump"], "Almaty Zoo has launched", "Almaty Zoo launched")
    assert wait_for(lambda: etags(webs)[0] != first[0], INTERVAL * 2 + 2)
    second = etags(webs)
    assert second[0] == second[1] != first[0]

    leader.popen.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    assert wait_for(lambda: waiting.said("this process leads"), INTERVAL + 2), waiting.lines
    assert time.monotonic() - killed <= INTERVAL + 2  # within one interval (plus start-up)

    edit(cluster["dump"], "Almaty Zoo launched", "Almaty Zoo has started")
    assert wait_for(lambda: etags(webs)[0] != second[0], INTERVAL * 2 + 2)
    third = etags(webs)
    assert third[0] == third[1] != second[0]
    assert waiting.said("ingest ")
