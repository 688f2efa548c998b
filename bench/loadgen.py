"""Load generators for loopback HTTP benchmarks: wrk when installed, else a Python one.

Both report the same thing: requests per second, latency percentiles, status counts.
Within one run every figure is measured with the same generator, so ratios compare like
with like (a Python generator saturates sooner than wrk: its ratios lean towards 1.0).
"""

import http.client
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

WRK = shutil.which("wrk")


@dataclass
class LoadResult:
    url: str
    rps: float
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, and answers with another status than expected
    statuses: dict[str, int] = field(default_factory=dict)
    tool: str = ""
    cpu_us: float = float("nan")  # the server's CPU time per request, when measured

    def as_dict(self) -> dict:
        return asdict(self)


def probe(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request: (status, headers lower-cased, body bytes as sent)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def run_load(
    url: str,
    *,
    seconds: float,
    connections: int,
    headers: dict[str, str] | None = None,
    expect: int = 200,
    tool: str | None = None,
) -> LoadResult:
    """Hammer one URL for `seconds` with `connections` concurrent clients."""
    tool = tool or ("wrk" if WRK else "python")
    if tool == "wrk":
        return _wrk(url, seconds, connections, headers or {}, expect)
    return _python(url, seconds, connections, headers or {}, expect)


# -- wrk ----------------------------------------------------------------------------------

# wrk prints only a few percentiles in its own format; this prints p50 and p99 in us.
_WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write("BENCH-PERCENTILES ", latency:percentile(50.0), " ", latency:percentile(99.0), "\\n")
end
"""


def _wrk(url: str, seconds: float, connections: int, headers: dict[str, str], expect: int):
    # wrk counts statuses only as "Non-2xx or 3xx": a probe first checks the exact one.
    status, _, _ = probe(url, headers)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(_WRK_SCRIPT)
        script = handle.name
    command = [
        WRK or "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        script,
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    try:
        out = subprocess.run(
            [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
    finally:
        os.unlink(script)
    took = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    requests = int(took[1])
    secs = float(took[2]) * {"ms": 0.001, "s": 1.0, "m": 60.0}.get(took[3], 1.0)
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out)[1])
    p50, p99 = (float(v) / 1000 for v in re.search(r"BENCH-PERCENTILES (\S+) (\S+)", out).groups())
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad[1]) if bad else 0) + (sum(map(int, socket.groups())) if socket else 0)
    if status != expect:
        errors = max(errors, requests)
    return LoadResult(url, rps, requests, secs, p50, p99, errors, {str(status): 1}, "wrk")


# -- Python -------------------------------------------------------------------------------


def _python(url: str, seconds: float, connections: int, headers: dict[str, str], expect: int):
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[list[float]] = [[] for _ in range(connections)]
    statuses: dict[str, int] = {}
    errors = [0] * connections
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def client(index: int) -> None:
        connection = None
        mine = latencies[index]
        seen: dict[str, int] = {}
        while time.perf_counter() < deadline:
            if connection is None:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            began = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                connection.close()
                connection = None
                continue
            mine.append(time.perf_counter() - began)
            seen[str(response.status)] = seen.get(str(response.status), 0) + 1
            if response.status != expect:
                errors[index] += 1
            if response.will_close:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()
        with lock:
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - start
    every = sorted(v for mine in latencies for v in mine)
    count = len(every)
    p50 = statistics.median(every) * 1000 if every else float("nan")
    p99 = every[min(count - 1, int(count * 0.99))] * 1000 if every else float("nan")
    return LoadResult(url, count / took, count, took, p50, p99, sum(errors), statuses, "python")
