"""Helpers shared by the reliability and security tests (issue 9) and by `soak/`: checking
that every served feed is valid, that a body matches its ETag, raw HTTP on loopback, and
what /proc says about a process."""

import gzip
import hashlib
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser

ATOM = "{http://www.w3.org/2005/Atom}"


def load_w3c() -> Any:
    """tests/w3c_validator.py when the validator's sources are here, else None."""
    from tests import w3c_validator

    try:
        if w3c_validator.validator_dir() is None:
            return None
        w3c_validator.validate(b"<feed xmlns='http://www.w3.org/2005/Atom'/>")
    except w3c_validator.ValidatorUnavailable:
        return None
    return w3c_validator


def w3c_errors(w3c: Any, body: bytes, url: str) -> list[str]:
    return [str(m) for m in w3c.validate(body, url) if m.level == "error"]


# -- feeds of an app (Flask test client) ------------------------------------------------------


def opml_paths(client: Any) -> list[str]:
    """Every Atom feed the OPML lists, as site-relative paths."""
    opml = ElementTree.fromstring(client.get("/feeds.opml").data)
    return [site_path(o.get("xmlUrl")) for o in opml.iter("outline") if o.get("xmlUrl")]


def site_path(url: str) -> str:
    """ "/path?query" of an absolute URL."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def next_link(body: bytes) -> str | None:
    """The rel="next" link of an Atom or RSS page, site-relative."""
    root = ElementTree.fromstring(body)
    for link in root.iter(f"{ATOM}link"):
        if link.get("rel") == "next":
            return site_path(link.get("href"))
    return None


def walk(client: Any, path: str) -> Iterator[bytes]:
    """Every page of a feed, following rel="next" from `path`."""
    while path:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
        yield response.data
        path = next_link(response.data)


def check_feed(path: str, body: bytes) -> feedparser.FeedParserDict | dict:
    """The parsed feed; fails when it is not well-formed (feedparser's bozo, bad JSON)."""
    if path.split("?")[0].endswith(".json"):
        return json.loads(body)
    parsed = feedparser.parse(body)
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    ElementTree.fromstring(body)  # strictly well-formed too
    return parsed


def check_every_feed(client: Any) -> int:
    """Fetch every feed of the OPML in every format and its HTML page; the feeds checked."""
    checked = 0
    for path in opml_paths(client):
        for fmt in ("atom", "rss", "json"):
            feed_path = path.removesuffix(".atom") + f".{fmt}"
            response = client.get(feed_path)
            assert response.status_code == 200, (feed_path, response.text[:200])
            check_feed(feed_path, response.data)
            checked += 1
        page = client.get("/" if path == "/all.atom" else path.removesuffix(".atom"))
        assert page.status_code == 200, path
    return checked


# -- validators -------------------------------------------------------------------------------


def etag_matches(etag: str, encoding: str | None, body: bytes) -> bool:
    """Whether a body is what its ETag says: the first 32 hex digits of the sha256 of the
    uncompressed bytes, with "-gz" for the gzipped representation."""
    tag = etag.removeprefix("W/").strip('"')
    if encoding == "gzip":
        if not tag.endswith("-gz"):
            return False
        tag, body = tag.removesuffix("-gz"), gzip.decompress(body)
    elif tag.endswith("-gz"):
        return False
    return hashlib.sha256(body).hexdigest()[:32] == tag


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def raw_get(
    base: str, path: str, headers: dict[str, str] | None = None, timeout: float = 30
) -> RawResponse:
    """GET exactly `path` (no normalisation, no decompression) from http://host:port."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        headers = headers or {}
        own_host = any(name.lower() == "host" for name in headers)  # sent once, as given
        connection.putrequest("GET", path, skip_host=own_host, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()


# -- processes --------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """Resident memory of a process, in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))


def open_fds(pid: int) -> list[str]:
    """What each open file descriptor of a process points to."""
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:  # closed meanwhile
            continue
    return found


def children(pid: int) -> list[int]:
    """Direct child processes (gunicorn's workers of its master)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        found.extend(int(child) for child in text)
    return sorted(set(found))


def is_scheduler(pid: int) -> bool | None:
    """`feeds serve` runs `feeds schedule` as a child of gunicorn's master, beside the workers;
    None when the process is gone (a killed worker is listed, then reaped, in a moment)."""
    try:
        return b"schedule" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return None


def web_workers(master: int) -> list[int]:
    return [pid for pid in children(master) if is_scheduler(pid) is False]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


# -- a real server and readers ----------------------------------------------------------------


@contextmanager
def gunicorn_server(
    env: dict[str, str], log: Path, *, workers: int = 2, threads: int = 4
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`gunicorn wsgi:app` on a free loopback port with these FEEDS_* settings, once it
    answers."""
    from tests.runs.test_gunicorn import free_port

    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "wsgi:app", "-b", f"127.0.0.1:{port}"]
    args += ["-w", str(workers), "-k", "gthread", "--threads", str(threads)]
    with _server(args, port, env, log, lambda answer: answer.status == 200, 30) as started:
        yield started


@contextmanager
def feeds_serve(
    env: dict[str, str], log: Path, *, workers: int = 2, seconds: float = 120
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`feeds serve` (gunicorn, and the scheduler process beside its workers) on a free
    loopback port with these FEEDS_* settings, once its first ingest is done."""
    from tests.runs.test_gunicorn import free_port

    port = free_port()
    args = [sys.executable, "-m", "feeds", "serve", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--workers", str(workers)]

    def ingested(answer: RawResponse) -> bool:
        return bool(json.loads(answer.body).get("items"))

    with _server(args, port, env, log, ingested, seconds) as started:
        yield started


@contextmanager
def _server(
    args: list[str],
    port: int,
    env: dict[str, str],
    log: Path,
    ready: Callable[[RawResponse], bool],
    seconds: float,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """A server process with only these FEEDS_* settings, its log in a file (a pipe nobody
    reads could fill up and stall it), yielded once its /healthz answer is `ready`; stopped
    (SIGTERM, then SIGKILL) afterwards."""
    from tests.conftest import PROJECT

    clean = {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}
    # The readers below take any answer but 200 for an error, and read variants from several
    # threads at once: at least as many renders on demand as a worker has threads, unless a test says
    # otherwise (tests/publish/test_variants.py and tests/web/test_flood.py test the limit itself).
    env = {"FEEDS_MAX_VARIANT_RENDERS": "8", **env}
    with open(log, "w") as handle:
        process = subprocess.Popen(
            args, cwd=PROJECT, env={**clean, **env}, stdout=handle, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + seconds
        while True:
            assert process.poll() is None, f"{args[2]} exited: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{args[2]} not ready: {log.read_text()[-3000:]}"
            try:
                if ready(raw_get(base, "/healthz", timeout=5)):
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class ReadStats:
    requests: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)  # no answer, or not 200
    torn: list[str] = field(default_factory=list)  # an answer that is not what it says
    latencies: list[float] = field(default_factory=list)

    def add(self, other: "ReadStats") -> None:
        self.requests += other.requests
        self.bytes += other.bytes
        self.errors += other.errors
        self.torn += other.torn
        self.latencies += other.latencies


def check_answer(path: str, response: RawResponse) -> str | None:
    """What is wrong with a 200 answer, if anything: a feed's body must match its ETag and
    parse; a page must be whole."""
    plain = path.split("?")[0]
    if plain.endswith((".atom", ".rss", ".json")):
        etag = response.headers.get("etag", "")
        encoding = response.headers.get("content-encoding")
        if not etag_matches(etag, encoding, response.body):
            return f"{path}: body does not match ETag {etag} ({encoding})"
        body = gzip.decompress(response.body) if encoding == "gzip" else response.body
        try:
            check_feed(path, body)
        except (AssertionError, ValueError, ElementTree.ParseError) as exc:
            return f"{path}: not a whole feed: {exc!r}"[:300]
    elif plain in ("/healthz", "/feeds.opml"):
        try:
            json.loads(response.body) if plain == "/healthz" else ElementTree.fromstring(
                response.body
            )
        except (ValueError, ElementTree.ParseError) as exc:
            return f"{path}: not whole: {exc!r}"
    elif b"</html>" not in response.body[-200:]:
        return f"{path}: page cut short"
    return None


def read_continuously(
    base: str, paths: list[str], stop: threading.Event, stats: ReadStats, seed: int
) -> None:
    """Request random paths (half of them gzipped) until `stop`; check every answer."""
    rng = random.Random(seed)
    while not stop.is_set():
        path = rng.choice(paths)
        headers = {"Accept-Encoding": "gzip"} if rng.random() < 0.5 else {}
        started = time.perf_counter()
        try:
            response = raw_get(base, path, headers)
        except OSError as exc:
            stats.errors.append(f"{path}: {exc!r}")
            continue
        stats.latencies.append(time.perf_counter() - started)
        stats.requests += 1
        stats.bytes += len(response.body)
        if response.status != 200:
            stats.errors.append(f"{path}: HTTP {response.status} {response.body[:200]!r}")
            continue
        problem = check_answer(path, response)
        if problem:
            stats.torn.append(problem)


def read_in_threads(base: str, paths: list[str], seconds: float, threads: int) -> ReadStats:
    return read_during(base, paths, threads, lambda: time.sleep(seconds))


def read_during(base: str, paths: list[str], threads: int, wait: Callable[[], object]) -> ReadStats:
    """Readers in `threads` threads for as long as `wait()` takes."""
    stop = threading.Event()
    per_thread = [ReadStats() for _ in range(threads)]
    workers = [
        threading.Thread(
            target=read_continuously, args=(base, paths, stop, stats, seed), daemon=True
        )
        for seed, stats in enumerate(per_thread)
    ]
    for worker in workers:
        worker.start()
    try:
        wait()
    finally:
        stop.set()
    for worker in workers:
        worker.join(timeout=60)
    total = ReadStats()
    for stats in per_thread:
        total.add(stats)
    return total


def python_child(code: str, message: dict) -> subprocess.Popen:
    """`python -c code` in the project, told `message` as one JSON line on its stdin, which
    stays open (the child may wait for it to close); its stdout is a text pipe."""
    from tests.conftest import PROJECT

    child = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    child.stdin.write(json.dumps(message) + "\n")
    child.stdin.flush()
    return child


def read_elsewhere(
    base: str, paths: list[str], threads: int, wait: Callable[[], object]
) -> ReadStats:
    """`read_during` in a process of its own: the readers' clocks then do not count the time
    other threads of this process (a fake gov.kz writing megabytes) hold the interpreter."""

    code = "import sys; from tests.reliability import _read_until_stdin_closes as r; r()"
    reader = python_child(code, {"base": base, "paths": paths, "threads": threads})
    try:
        wait()
    finally:
        reader.stdin.close()  # the readers stop
    assert reader.stdout is not None
    out = reader.stdout.read()
    assert reader.wait(timeout=120) == 0, out[-2000:]
    return ReadStats(**json.loads(out.strip().splitlines()[-1]))


def _read_until_stdin_closes() -> None:
    job = json.loads(sys.stdin.readline())
    stats = read_during(job["base"], job["paths"], job["threads"], sys.stdin.read)
    print(json.dumps(stats.__dict__))


def served_paths(base: str) -> list[str]:
    """Every feed of the OPML in every format, a short page and its next page, the HTML pages."""
    opml = ElementTree.fromstring(raw_get(base, "/feeds.opml").body)
    paths = ["/", "/healthz", "/feeds.opml"]
    for outline in opml.iter("outline"):
        if outline.get("xmlUrl"):
            atom = site_path(outline.get("xmlUrl"))
            paths += [atom.removesuffix(".atom") + f".{fmt}" for fmt in ("atom", "rss", "json")]
            paths += [atom + "?limit=5", site_path(outline.get("htmlUrl"))]
    return paths
