"""Production serving: `gunicorn wsgi:app` answers real HTTP on loopback."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
import requests

from tests.conftest import PROJECT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"server exited with {process.returncode}: {process.stderr.read()}"
            )
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):  # not listening, or still starting
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {seconds}s")


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[str]:
    env = {**os.environ, "FEEDS_DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite3'}"}
    subprocess.run(
        [sys.executable, "-m", "feeds", "ingest"], env=env, check=True, capture_output=True
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=PROJECT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_gunicorn_serves_feeds_with_validators(gunicorn: str) -> None:
    first = requests.get(f"{gunicorn}/all.atom", timeout=5)
    assert first.status_code == 200
    assert first.headers["Content-Encoding"] == "gzip"  # requests asks for gzip
    assert len(feedparser.parse(first.content).entries) == 37
    for _ in range(4):  # every worker answers with the same validator
        again = requests.get(
            f"{gunicorn}/all.atom", headers={"If-None-Match": first.headers["ETag"]}, timeout=5
        )
        assert again.status_code == 304
    assert requests.get(f"{gunicorn}/healthz", timeout=5).json()["items"] == 37
