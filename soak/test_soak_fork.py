"""Workers forked while the scheduler writes (issue 9, found by the soak): `feeds serve` on
SQLite, the scheduler re-ingesting a 30,000-item dump that changes every round (writes of
seconds), gunicorn's workers SIGKILLed and forked again meanwhile. Once the writes stop,
every worker must write again: a worker that inherited the lock state of a writing thread
used to wait 30 s on every write ("database is locked") for the rest of its life."""

import json
import os
import signal
import time
from datetime import date, timedelta
from pathlib import Path

from feeds.dumps.dumpwrite import DumpItem, write_dump
from tests.reliability import feeds_serve, raw_get, web_workers

ROUNDS = int(os.environ.get("SOAK_FORK_ROUNDS", "6"))
LINK = "https://www.gov.kz/memleket/entities/mfa/press/news/details/{id}?lang=en"
FRESH_PAGES = [
    f"/{feed}.{fmt}"
    for feed in ("all", "agencies/mfa", "topics/news", "topics/taxes-customs")
    for fmt in ("atom", "rss", "json")
]


def big_dump(path: Path, turn: int) -> None:
    items = [
        DumpItem(
            f"Fork item {i} on taxes",
            date(2025, 12, 31) - timedelta(days=i // 40),
            f"Text {i}, turn {turn}.",
            LINK.format(id=4_000_000 + i),
        )
        for i in range(30_000)
    ]
    path.with_suffix(".tmp").write_text(write_dump("News", items), encoding="utf-8")
    path.with_suffix(".tmp").replace(path)


def test_workers_forked_during_writes_can_write(tmp_path: Path) -> None:
    dump = tmp_path / "big.txt"
    big_dump(dump, 0)
    env = dict(
        FEEDS_DATABASE_URL=f"sqlite:///{tmp_path / 'feeds.sqlite3'}",
        FEEDS_DUMPS=json.dumps([str(dump)]),
        FEEDS_INGEST_INTERVAL="1",
        FEEDS_FOLLOW="false",
        FEEDS_LOG_LEVEL="WARNING",
    )
    log = tmp_path / "serve.log"
    forks = 0
    with feeds_serve(env, log) as (base, server):
        for turn in range(1, ROUNDS + 1):  # long writes; workers forked again meanwhile
            big_dump(dump, turn)
            time.sleep(1.5)
            for worker in web_workers(server.pid):
                os.kill(worker, signal.SIGKILL)
                forks += 1
                time.sleep(0.7)
        time.sleep(15)  # the last write ends; later ingests find the dump unchanged
        answers = []
        # Canonical pages not served yet: each one is rendered and written to the store
        # (pages with a query are not written: they stay in the worker's memory).
        for path in FRESH_PAGES:
            started = time.monotonic()
            status = raw_get(base, path, timeout=60).status
            answers.append((status, round(time.monotonic() - started, 1)))
    locked = log.read_text().count("database is locked")
    print(
        f"\nfork: {forks} workers forked during writes; answers (status, s): {answers}; "
        f"'database is locked' {locked} times"
    )
    assert all(status == 200 and seconds < 10 for status, seconds in answers), answers
    assert locked == 0
