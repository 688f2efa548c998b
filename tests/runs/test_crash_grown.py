"""Crash safety of an incremental ingest (issue 18): `feeds ingest` of a grown dump (3,000
new items on top of 3,000 known ones, one edited in the middle, one removed) SIGKILLed at
random points leaves the store exactly as before that ingest or exactly as after it, never
between: items, topics, follows, the source's state and its kept segments alike. A run to
the end afterwards gives what an uninterrupted one gives."""

import os
import random
import signal
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from feeds.dumps.dumpwrite import write_dump
from feeds.ingest import parse_bytes
from tests.runs.test_crash import (
    Expected,
    check_consistent,
    content_of,
    crash_item,
    fresh_database,
    ingest_fully,
    ingest_process,
)

KNOWN, NEW = 3_000, 3_000
EDITED, REMOVED = NEW + 1_500, NEW + 2_000


def write_first(path: Path) -> None:
    path.write_text(write_dump("News", [crash_item(i, 0) for i in range(NEW, NEW + KNOWN)]))


def write_grown(path: Path) -> None:
    chosen = [crash_item(i, 0, edit=1 if i == EDITED else 0) for i in range(NEW + KNOWN)]
    path.write_text(write_dump("News", [item for i, item in enumerate(chosen) if i != REMOVED]))


def writer_holds_the_lock(url: str) -> bool:
    """True while another connection has written in a transaction not committed yet."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                try:
                    connection.exec_driver_sql("PRAGMA busy_timeout = 0")
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                except OperationalError:
                    return True  # "database is locked": a write transaction is open
                connection.exec_driver_sql("ROLLBACK")
                return False
            locks = (
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'items' AND l.mode = 'RowExclusiveLock' "
                "AND l.pid <> pg_backend_pid()"
            )
            return bool(connection.scalar(text(locks)))
    finally:
        engine.dispose()


def wait_until_writing(url: str, process: subprocess.Popen, seconds: float = 60) -> bool:
    """Wait until the ingest writes (True) or ends (False)."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        if writer_holds_the_lock(url):
            return True
        time.sleep(0.02)
    return False


def store_content(url: str) -> dict[str, list[tuple]]:
    """Every table that an ingest writes (test_crash.content_of) and the kept segments."""
    found = content_of(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT * FROM source_items"))
            found["source_items"] = sorted(tuple(row) for row in rows)
    finally:
        engine.dispose()
    return found


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_sigkilled_grown_dump_ingest_leaves_nothing_half_done(
    backend: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    dump = tmp_path / "news.txt"
    with ExitStack() as stack:
        before = stack.enter_context(fresh_database(backend, tmp_path, "before"))
        after = stack.enter_context(fresh_database(backend, tmp_path, "after"))
        write_first(dump)
        ingest_fully(before, [dump])
        ingest_fully(after, [dump])
        write_grown(dump)
        took = ingest_fully(after, [dump])
        states = {"before": store_content(before), "after": store_content(after)}
        assert len(states["after"]["items"]) == NEW + KNOWN
        cut = []
        for attempt in range(3):
            killed = stack.enter_context(fresh_database(backend, tmp_path, f"killed-{attempt}"))
            write_first(dump)
            ingest_fully(killed, [dump])
            write_grown(dump)
            process = ingest_process(killed, [dump])
            writing = wait_until_writing(killed, process)
            delay = rng.uniform(0, 0.5) * took  # after its first write, some way into it
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
            content = store_content(killed)
            state = next((name for name, known in states.items() if content == known), None)
            assert state is not None, (attempt, delay, seed)
            cut.append((writing, round(delay, 2), state))
        # Killed while writing, each run left the store as it was before it.
        assert any(writing and state == "before" for writing, _, state in cut), (cut, seed)
        ingest_fully(killed, [dump])  # the last killed store, run to the end
        assert store_content(killed) == states["after"], seed
        assert check_consistent(killed, expected_of_grown(dump)) == NEW + KNOWN
    print(f"\ngrown crash[{backend}] seed {seed}: (writing, killed after s, state) {cut}")


def expected_of_grown(dump: Path) -> Expected:
    """test_crash's Expected of both versions of the dump: each key's content hashes, and
    every key of either version as the source's (the removed item stays stored)."""
    versions: dict[str, set[str]] = {}
    keys: set[str] = set()
    for write in (write_first, write_grown):
        write(dump)
        for record in parse_bytes(dump.read_bytes(), str(dump)).records:
            keys.add(record.key)
            versions.setdefault(record.key, set()).add(record.content_hash)
    return Expected(versions, {str(dump): keys})
