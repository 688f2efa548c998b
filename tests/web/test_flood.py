"""A flood of distinct requests against `gunicorn wsgi:app` (issue 20): made-up hosts, limits,
cursors, languages and queries. The store does not grow beyond the canonical pages, each
worker's memory stays within its bound, and a poller of /all.atom meanwhile gets only 200
and 304 (its latency, idle and during the flood, is printed; speed itself is measured by
`make bench`)."""

import random
import threading
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from feeds.dumps.dumpwrite import DumpItem, write_dump
from feeds.ingest import Ingester
from feeds.settings import load_settings
from feeds.store import Store
from tests.conftest import SAMPLE_DUMPS
from tests.flood import flood_requests, flood_result, poll_all_atom, start_flood
from tests.reliability import gunicorn_server, raw_get, rss_kib, served_paths, web_workers

FLOOD = 3000  # requests: about 40 s here; soak/test_soak_flood.py sends ten times more
CACHE_BYTES = 4_000_000  # VARIANT_CACHE_BYTES of the flooded server
# Beyond the cache: renders under way (2 per worker, each with its rows, feedgen's tree and
# gzip) and what the allocator keeps: about 25 MB measured. Without the bound on the cache the
# same flood took about 95 MB more per worker (variants of a few hundred kB each).
RSS_SLACK_KIB = 40 * 1024


def long_items_dump(path: Path, count: int = 150) -> None:
    """Items with long bodies (about 6 kB each): variants of a few hundred kB, so that a
    cache without its bound would hold hundreds of MB after the flood."""
    rng = random.Random(6)
    words = ["ministry", "budget", "embassy", "taxes", "region", "akimat", "meeting", "report"]
    items = [
        DumpItem(
            f"Long release number {i} on taxes",
            date(2026, 1, 10) - timedelta(days=i // 10),
            " ".join(rng.choice(words) + str(rng.randint(0, 99)) for _ in range(700)) + ".",
            f"https://www.gov.kz/memleket/entities/{['mfa', 'kgd'][i % 2]}/press/news/details/"
            f"{900_000 + i}?lang=en",
        )
        for i in range(count)
    ]
    path.write_text(write_dump("News", items), encoding="utf-8")


def store_files(database: Path) -> int:
    return sum(p.stat().st_size for p in database.parent.glob(database.name + "*"))


def test_a_flood_of_variants_stores_nothing_and_does_not_starve_pollers(tmp_path: Path) -> None:
    flood_and_check(tmp_path, FLOOD)


def flood_and_check(tmp_path: Path, count: int) -> None:
    database = tmp_path / "feeds.sqlite3"
    url = f"sqlite:///{database}"
    store = Store(url)
    long_items_dump(tmp_path / "long.txt")
    dumps = [*map(str, SAMPLE_DUMPS), str(tmp_path / "long.txt")]
    Ingester(store, load_settings(env={}, database_url=url)).run(dumps)
    env = {
        "FEEDS_DATABASE_URL": url,
        "FEEDS_VARIANT_CACHE_BYTES": str(CACHE_BYTES),
        "FEEDS_MAX_VARIANT_RENDERS": "2",
    }
    with gunicorn_server(env, tmp_path / "gunicorn.log", workers=2, threads=4) as (base, server):
        canonical = [p for p in served_paths(base) if p.endswith((".atom", ".rss", ".json"))]
        for _ in range(3):
            for path in [*canonical, "/", "/feeds.opml"]:
                assert raw_get(base, path, {"Accept-Encoding": "gzip"}).status == 200, path
        shared, size = store.rendered_keys(), store_files(database)
        assert len(shared) == len(canonical) + 1  # and the Summary
        workers = web_workers(server.pid)
        rss_before = {pid: rss_kib(pid) for pid in workers}
        idle = poll_all_atom(base, 400)

        port = int(base.rsplit(":", 1)[1])
        flood = start_flood(base, flood_requests(count, port), threads=8)
        stop = threading.Event()
        during: list = []
        poller = threading.Thread(target=lambda: during.append(poll_all_atom(base, stop)))
        poller.start()
        statuses = flood_result(flood)
        stop.set()
        poller.join()
        rss_after = {pid: rss_kib(pid) for pid in workers}
        assert web_workers(server.pid) == workers  # none died or was restarted
        assert store.rendered_keys() == shared
        assert store_files(database) == size
    store.close()
    flooded = during[0]
    print(
        f"\nflood: {sum(statuses.values())} requests {dict(statuses)}; poller of /all.atom "
        f"idle: {idle.figures()}; during the flood: {flooded.figures()}; worker RSS KiB "
        f"before {rss_before}, after {rss_after}"
    )
    assert sum(statuses.values()) == count
    assert set(statuses) <= {"200", "400", "503"} and statuses["400"] == (count + 5) // 6
    # Unknown queries are the canonical page (200 from memory); variants beyond the renders
    # under way are told to wait (503), never queued behind them.
    assert statuses["200"] >= (count + 1) // 6 and statuses["503"] > 0
    assert set(idle.statuses) | set(flooded.statuses) == {200, 304}
    assert flooded.statuses[200] + flooded.statuses[304] == len(flooded.latencies) >= 10
    for pid in workers:
        assert rss_after[pid] <= rss_before[pid] + CACHE_BYTES // 1024 + RSS_SLACK_KIB, pid
    assert Counter(idle.statuses) == {200: 200, 304: 200}
