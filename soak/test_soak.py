"""The soak (issue 9): `feeds serve` (gunicorn, two workers, the scheduler beside them) under
continuous load on every feed for SOAK_SECONDS (default 600), with an ingest cycle every
SOAK_INTERVAL seconds (default 30) of dumps that change each cycle and links followed from
a fake gov.kz on loopback. No request fails or is torn; the web workers' memory stays flat
and they leak no file descriptor and no database connection.

    SOAK_SECONDS=600 make soak
"""

import itertools
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url
from werkzeug import Request, Response

from feeds.dumps.dumpwrite import DumpItem, write_dump
from feeds.store import Store
from tests.conftest import SAMPLE_DUMPS
from tests.following.test_faulty_govkz import AnyPath
from tests.following.test_follow import news
from tests.reliability import (
    ReadStats,
    children,
    feeds_serve,
    is_scheduler,
    open_fds,
    percentile,
    read_during,
    rss_kib,
    served_paths,
    web_workers,
)
from tests.runs.test_gunicorn import free_port

SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
INTERVAL = float(os.environ.get("SOAK_INTERVAL", "30"))
THREADS = int(os.environ.get("SOAK_THREADS", "6"))
WARM_UP = min(60.0, max(10.0, SECONDS / 10))
NEW_PER_CYCLE = 40  # items a scraper adds between two ingests
SOAK_LINK = "https://www.gov.kz/memleket/entities/mfa-soak/press/news/details/{id}?lang=en"


def portal() -> HTTPServer:
    """A healthy gov.kz API whose text changes now and then (a follow that edits an item)."""
    server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    counter = itertools.count()

    def answer(request: Request) -> Response:
        item_id = request.path.rsplit("/", 1)[1]
        turn = next(counter)
        title = f"Followed item {item_id}" + (f" (edit {turn})" if turn % 7 == 0 else "")
        return Response(json.dumps(news(item_id, title=title)), mimetype="application/json")

    server.expect_request(AnyPath()).respond_with_handler(answer)
    server.start()
    return server


def scraper(folder: Path, stop: threading.Event, cycles: list[int]) -> list[str]:
    """The dumps the service re-ingests; a thread rewrites them every INTERVAL: an edit of
    the samples toggled, and NEW_PER_CYCLE new items a cycle."""
    samples = [(folder / dump.name, dump.read_text(encoding="utf-8")) for dump in SAMPLE_DUMPS]
    growing = folder / "growing.txt"

    def write(cycle: int) -> None:
        for path, text in samples:
            edited = text.replace(" the ", " the very ") if cycle % 2 else text
            path.with_suffix(".tmp").write_text(edited, encoding="utf-8")
            path.with_suffix(".tmp").replace(path)
        items = [
            DumpItem(
                f"Soak item {i} on taxes and investment",
                date(2026, 1, 20) - timedelta(days=i // 30),
                f"Body of soak item {i}.",
                SOAK_LINK.format(id=6_000_000 + i),
            )
            for i in range(NEW_PER_CYCLE * (cycle + 1))
        ]
        growing.with_suffix(".tmp").write_text(
            write_dump("News", reversed(items)), encoding="utf-8"
        )
        growing.with_suffix(".tmp").replace(growing)
        cycles.append(cycle)

    def run() -> None:
        for cycle in itertools.count(1):
            if stop.wait(INTERVAL):
                return
            write(cycle)

    write(0)
    threading.Thread(target=run, daemon=True).start()
    return [str(path) for path, _ in samples] + [str(growing)]


@dataclass(frozen=True)
class Snapshot:
    workers: dict[int, tuple[int, int]]  # pid -> (RSS KiB, open fds)
    master: tuple[int, int]
    scheduler: tuple[int, int]
    database_fds: int  # open descriptors of the SQLite files, all processes
    connections: int  # PostgreSQL sessions on the soak's database


def snapshot(master: int, database_url: str) -> Snapshot:
    workers = {pid: (rss_kib(pid), len(open_fds(pid))) for pid in web_workers(master)}
    scheduler = next(pid for pid in children(master) if is_scheduler(pid))
    files = [target for pid in [master, scheduler, *workers] for target in open_fds(pid)]
    url = make_url(database_url)
    connections = 0
    if url.get_backend_name() == "postgresql":
        admin = create_engine(url.set(database="postgres"))
        with admin.connect() as connection:
            connections = connection.execute(
                sql("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"),
                {"name": url.database},
            ).scalar()
        admin.dispose()
    database = url.database or ""
    return Snapshot(
        workers,
        (rss_kib(master), len(open_fds(master))),
        (rss_kib(scheduler), len(open_fds(scheduler))),
        sum(1 for f in files if database and f.startswith(database)),
        connections,
    )


def runs(database_url: str) -> dict[str, dict]:
    store = Store(database_url)
    try:
        return {
            run: json.loads(store.get_state(f"runs:{run}") or "{}") for run in ("ingest", "follow")
        }
    finally:
        store.close()


@pytest.mark.slow
def test_soak(database_url: str, tmp_path: Path) -> None:
    api = portal()
    stop, cycles = threading.Event(), []
    dumps = scraper(tmp_path, stop, cycles)
    env = dict(
        FEEDS_DATABASE_URL=database_url,
        FEEDS_DUMPS=json.dumps(dumps),
        FEEDS_INGEST_INTERVAL=str(INTERVAL),
        FEEDS_GOVKZ_BASE_URL=api.url_for("/").rstrip("/"),
        FEEDS_FOLLOW_RATE="50",
        FEEDS_FETCH_TIMEOUT="5",
        FEEDS_LOG_LEVEL="WARNING",
    )
    try:
        with feeds_serve(env, tmp_path / "serve.log") as (base, server):
            soaked = soak(base, server.pid, database_url)
    finally:
        stop.set()
        api.stop()
    report(soaked, len(cycles), database_url)
    before, after = soaked.before, soaked.after
    assert soaked.warm.errors == soaked.stats.errors == []
    assert soaked.warm.torn == soaked.stats.torn == []
    assert set(after.workers) == set(before.workers)  # no worker died and was replaced
    ingest_runs = soaked.runs_after["ingest"]
    ingests = ingest_runs.get("ok", 0) - soaked.runs_before["ingest"].get("ok", 0)
    assert ingests >= soaked.elapsed / INTERVAL - 2 and not ingest_runs.get("failed")
    for pid, (rss, fds) in after.workers.items():
        start_rss, start_fds = before.workers[pid]
        assert rss <= start_rss * 1.25 + 10_000, f"worker {pid} grew from {start_rss} to {rss} KiB"
        assert fds <= start_fds + 4, f"worker {pid} had {start_fds} open files, now {fds}"
    assert after.database_fds <= before.database_fds + 4
    assert after.connections <= before.connections + 2


@dataclass
class Soaked:
    warm: ReadStats
    stats: ReadStats
    elapsed: float
    before: Snapshot
    after: Snapshot
    runs_before: dict[str, dict]
    runs_after: dict[str, dict]
    samples: list[dict[int, int]]  # workers' RSS every minute: flat, or a leak


def soak(base: str, master: int, database_url: str) -> Soaked:
    """Readers on every feed for a warm-up, then for SECONDS, measured."""
    warm = read_during(base, served_paths(base), THREADS, lambda: time.sleep(WARM_UP))
    before, runs_before = snapshot(master, database_url), runs(database_url)
    started = time.monotonic()
    samples: list[dict[int, int]] = []

    def wait() -> None:
        while (left := started + SECONDS - time.monotonic()) > 0:
            time.sleep(min(60.0, left))
            samples.append({pid: rss_kib(pid) for pid in web_workers(master)})

    stats = read_during(base, served_paths(base), THREADS, wait)
    elapsed = time.monotonic() - started
    after, runs_after = snapshot(master, database_url), runs(database_url)
    return Soaked(warm, stats, elapsed, before, after, runs_before, runs_after, samples)


def report(soaked: Soaked, cycles: int, database_url: str) -> None:
    stats, elapsed, before, after = soaked.stats, soaked.elapsed, soaked.before, soaked.after
    runs_before, runs_after = soaked.runs_before, soaked.runs_after
    backend = make_url(database_url).get_backend_name()
    p50, p99 = (percentile(stats.latencies, share) * 1000 for share in (0.5, 0.99))
    slowest = max(stats.latencies, default=0) * 1000
    lines = [
        f"soak [{backend}]: {elapsed:.0f} s of load after {WARM_UP:.0f} s warm-up, "
        f"{THREADS} reader threads",
        f"  requests {stats.requests} ({stats.requests / elapsed:.0f}/s, "
        f"{stats.bytes / 1e6:.0f} MB), errors {len(stats.errors)}, torn {len(stats.torn)}; "
        f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {slowest:.0f} ms",
        f"  ingest runs {runs_before['ingest']} -> {runs_after['ingest']}; follow runs "
        f"{runs_before['follow']} -> {runs_after['follow']}; dump rewrites {cycles}",
    ]
    for pid, (rss, fds) in sorted(after.workers.items()):
        start_rss, start_fds = before.workers.get(pid, (0, 0))
        lines.append(
            f"  worker {pid}: RSS {start_rss / 1024:.1f} -> {rss / 1024:.1f} MiB, "
            f"open fds {start_fds} -> {fds}"
        )
    for name, (start_rss, start_fds), (end_rss, end_fds) in (
        ("gunicorn master", before.master, after.master),
        ("scheduler process", before.scheduler, after.scheduler),
    ):
        lines.append(
            f"  {name}: RSS {start_rss / 1024:.1f} -> {end_rss / 1024:.1f} MiB, "
            f"open fds {start_fds} -> {end_fds}"
        )
    lines.append(
        f"  SQLite file descriptors {before.database_fds} -> {after.database_fds}; "
        f"PostgreSQL sessions {before.connections} -> {after.connections}"
    )
    for pid in sorted(before.workers):
        series = " ".join(f"{sample.get(pid, 0) / 1024:.1f}" for sample in soaked.samples)
        lines.append(f"  worker {pid} RSS (MiB) each minute: {series}")
    print("\n" + "\n".join(lines))
    for problem in (stats.errors + stats.torn)[:20]:
        print("  problem:", problem)
