"""gunicorn servers on loopback for the benchmarks: the real app (`wsgi:app`), the bare
baseline and the naive one, all started with the same gunicorn settings."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SITE_URL = "http://127.0.0.1:8000"  # fixed, so every server writes the same bytes
WORKERS = 2
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "sync")  # gunicorn's default


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def feeds_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a feeds server: a given store, no following, fixed site URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}
    env.update(
        FEEDS_DATABASE_URL=database_url,
        FEEDS_FOLLOW="false",
        FEEDS_SITE_URL=SITE_URL,
        FEEDS_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the master's children."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.pid:
                found.append(int(entry.name))
        return sorted(found)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far."""
        total = 0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        return total / os.sysconf("SC_CLK_TCK")

    def memory(self) -> dict[int, dict[str, float]]:
        """Per worker: current and peak resident memory in MB (VmRSS, VmHWM)."""
        result = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            values = {}
            for line in status.splitlines():
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    values[name] = int(rest.split()[0]) / 1024
            result[pid] = {"rss_mb": values["VmRSS"], "peak_rss_mb": values["VmHWM"]}
        return result


def _wait_up(server: Server, path: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    port = int(server.base.rsplit(":", 1)[1])
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            err = server.log.read_text()[-3000:]
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}: {err}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            # Both workers must be up (each imports the app after the fork).
            if len(server.worker_pids()) >= WORKERS:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{server.name} did not answer on {server.base}{path} in {seconds}s")


@dataclass(frozen=True)
class Spec:
    """What to start: a name, the WSGI app, its environment and gunicorn extras."""

    name: str
    app: str
    env: Mapping[str, str]
    ready_path: str = "/"
    config: str | None = None


def _start(spec: Spec, log: Path) -> Server:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        spec.app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        WORKER_CLASS,
        "--log-level",
        "warning",
        "--timeout",
        "120",
    ]
    if spec.config:
        command += ["--config", spec.config]
    with log.open("w") as handle:
        process = subprocess.Popen(
            command, cwd=PROJECT, env=dict(spec.env), stdout=subprocess.DEVNULL, stderr=handle
        )
    return Server(spec.name, f"http://127.0.0.1:{port}", process, log)


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextmanager
def gunicorns(*specs: Spec, logs: Path) -> Iterator[list[Server]]:
    """`gunicorn <app> -w 2` for each spec on free loopback ports, started together;
    stopped (SIGTERM) on exit. Their stderr goes to `logs`/<name>.log."""
    logs.mkdir(parents=True, exist_ok=True)
    servers: list[Server] = []
    try:
        for spec in specs:
            servers.append(_start(spec, logs / f"{spec.name}.log"))
        for spec, server in zip(specs, servers, strict=True):
            _wait_up(server, spec.ready_path, 90)
        yield servers
    finally:
        for server in servers:
            _stop(server)
