"""Crash safety (issue 9): `python -m feeds ingest` SIGKILLed at random points of a large
ingest, then run again. After every kill the store is consistent (integrity, foreign keys,
no duplicate, no half-written item, each source all or nothing); after the final run its
content equals that of an uninterrupted run into another database.

The dumps overlap (a tenth of each dump's items are the previous dump's, edited), and each
killed run finds them edited again (two edits in turn), so every run inserts or updates all
along until its kill; the final run ingests the reference's text. `make soak` runs the same
scenario with 50,000 items and more kills (soak/test_soak_crash.py).
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from feeds.dumps.dumpwrite import DumpItem, write_dump
from feeds.ingest import parse_bytes
from tests.conftest import PROJECT, new_postgres_database

LINK = "https://www.gov.kz/memleket/entities/{agency}/{kind}/details/{id}?lang={lang}"
AGENCIES = ("mfa", "mfa-washington", "kgd", "kgd-akmola", "almaty-almaly", "mod", "edu")
# Columns that say when a run happened, not what it stored.
RUN_COLUMNS = {"id", "updated", "next_try", "last_ingest", "followed_at"}


def crash_item(i: int, version: int, edit: int = 0) -> DumpItem:
    """Item `i` as dump `version` writes it, in the scraper's `edit` of that day; one in
    twenty has no link (title identity, so only its body is ever edited), one in seven is
    an article (not followed)."""
    linkless = i % 20 == 19
    title = f"Crash-test item {i} on taxes and investment"
    if version and not linkless:
        title += f" (revised in dump {version})"
    kind = "press/article" if i % 7 == 3 else "press/news"
    return DumpItem(
        title=title,
        day=date(2025, 12, 31) - timedelta(days=i // 100),
        body=f"Item {i}, text of dump {version}.\nA second paragraph about the economy."
        + (f" Edit {edit}." if edit else ""),
        link=None
        if linkless
        else LINK.format(
            agency=AGENCIES[i % len(AGENCIES)], kind=kind, id=3_000_000 + i, lang="en"
        ),
    )


def write_dumps(folder: Path, items: int, parts: int, edit: int = 0) -> list[Path]:
    """`parts` dumps of `items` distinct items in all; each dump starts with the last tenth
    of the previous dump's items, edited. Another `edit` changes every item's text."""
    per = items // parts
    paths = []
    for k in range(parts):
        start = max(0, k * per - per // 10)
        chosen = [crash_item(i, k if i < k * per else 0, edit) for i in range(start, (k + 1) * per)]
        path = folder / f"crash-{k}.txt"
        path.write_text(write_dump("News" if k % 2 == 0 else "World", chosen), encoding="utf-8")
        paths.append(path)
    return paths


# -- databases --------------------------------------------------------------------------------


@contextmanager
def fresh_database(backend: str, folder: Path, name: str) -> Iterator[str]:
    """The URL of a new empty database, dropped afterwards (PostgreSQL) or a new file."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{name}.sqlite3'}"
        return
    with new_postgres_database() as url:
        yield url


def ingest_process(url: str, paths: list[Path]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}
    env.update(FEEDS_DATABASE_URL=url, FEEDS_FOLLOW="false")
    return subprocess.Popen(
        [sys.executable, "-m", "feeds", "ingest", *map(str, paths)],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def ingest_fully(url: str, paths: list[Path]) -> float:
    started = time.monotonic()
    process = ingest_process(url, paths)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return time.monotonic() - started


# -- consistency ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What the dumps say: every version of every item, and each source's keys."""

    versions: dict[str, set[str]]  # key -> content hashes it may have
    keys_of: dict[str, set[str]]  # source path -> keys of its items


def expected_of(folder: Path, items: int, parts: int, edits: int) -> Expected:
    """What every edit of the dumps says (they are written at the same paths)."""
    versions: dict[str, set[str]] = {}
    keys_of: dict[str, set[str]] = {}
    for edit in range(edits):
        for path in write_dumps(folder, items, parts, edit):
            parsed = parse_bytes(path.read_bytes(), str(path))
            assert parsed.problems == []
            keys_of.setdefault(str(path), set()).update(r.key for r in parsed.records)
            for record in parsed.records:
                versions.setdefault(record.key, set()).add(record.content_hash)
    return Expected(versions, keys_of)


def _rows(engine: Engine, query: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def check_consistent(url: str, expected: Expected) -> int:
    """Fail unless the store is consistent; the number of items in it."""
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        if "items" not in tables:  # killed before the schema was committed: nothing at all
            assert not tables - {"alembic_version"}, tables
            return 0
        if engine.dialect.name == "sqlite":
            assert _rows(engine, "PRAGMA integrity_check") == [("ok",)]
            assert _rows(engine, "PRAGMA foreign_key_check") == []
        for table in ("item_topics", "follows"):  # every row has its item
            orphans = f"SELECT count(*) FROM {table} t LEFT JOIN items i ON i.id = t.item_id WHERE i.id IS NULL"
            assert _rows(engine, orphans) == [(0,)], table
        assert _rows(engine, "SELECT key FROM items GROUP BY key HAVING count(*) > 1") == []
        stored = dict(_rows(engine, "SELECT key, content_hash FROM items"))
        for key, content in stored.items():  # each item whole: one of its dump versions
            assert content in expected.versions.get(key, ()), key
        no_topic = "SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM item_topics t WHERE t.item_id = i.id)"
        assert _rows(engine, no_topic) == [(0,)]  # topics are written with their item
        unfollowed = (
            "SELECT count(*) FROM items i WHERE i.kind = 'press/news' "
            "AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.item_id = i.id)"
        )
        assert _rows(engine, unfollowed) == [(0,)]
        committed = {name for (name,) in _rows(engine, "SELECT name FROM sources")}
        for source in committed:  # a source is all or nothing
            assert expected.keys_of[source] <= stored.keys(), source
        allowed = set().union(*(expected.keys_of[s] for s in committed)) if committed else set()
        assert set(stored) <= allowed  # nothing of a source that did not commit
        return len(stored)
    finally:
        engine.dispose()


def content_of(url: str) -> dict[str, list[tuple]]:
    """Every table's rows as comparable tuples: ids replaced by item keys, times of runs
    and the count of content versions left out."""
    engine = create_engine(url)
    try:
        key_of = dict(_rows(engine, "SELECT id, key FROM items"))
        found: dict[str, list[tuple]] = {}
        for table in ("items", "item_topics", "follows", "sources"):
            with engine.connect() as connection:
                result = connection.execute(text(f"SELECT * FROM {table}"))
                columns = list(result.keys())
                rows = []
                for row in result:
                    values = dict(zip(columns, row, strict=True))
                    if "item_id" in values:
                        values["item_id"] = key_of[values["item_id"]]
                    rows.append(
                        tuple(
                            sorted((k, str(v)) for k, v in values.items() if k not in RUN_COLUMNS)
                        )
                    )
            found[table] = sorted(rows)
        return found
    finally:
        engine.dispose()


# -- the scenario -----------------------------------------------------------------------------


@dataclass
class CrashReport:
    seed: int
    items: int
    reference_seconds: float
    kills: list[tuple[float, int]] = field(default_factory=list)  # (after s, items then)
    finished_before_kill: int = 0
    final_items: int = 0


EDITS = 3  # the reference's dumps (0), and two edits the killed runs take in turn


def crash_scenario(
    backend: str, folder: Path, *, items: int, parts: int, kills: int, seed: int
) -> CrashReport:
    expected = expected_of(folder, items, parts, EDITS)
    rng = random.Random(seed)
    with (
        fresh_database(backend, folder, "reference") as reference,
        fresh_database(backend, folder, "killed") as killed,
    ):
        paths = write_dumps(folder, items, parts)
        report = CrashReport(seed, items, ingest_fully(reference, paths))
        for kill in range(kills):
            # Each killed run finds other text than the store has: it writes all along.
            write_dumps(folder, items, parts, edit=1 + kill % (EDITS - 1))
            delay = rng.uniform(0.05, report.reference_seconds)
            process = ingest_process(killed, paths)
            try:
                process.wait(timeout=delay)
                report.finished_before_kill += 1
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
            report.kills.append((round(delay, 2), check_consistent(killed, expected)))
        write_dumps(folder, items, parts)  # the reference's text, once more, to the end
        ingest_fully(killed, paths)
        report.final_items = check_consistent(killed, expected)
        assert report.final_items == check_consistent(reference, expected) == items
        mine, theirs = content_of(killed), content_of(reference)
        for table in mine:
            assert mine[table] == theirs[table], (table, seed)
    return report


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkilled_ingests_leave_a_consistent_store_equal_to_an_uninterrupted_one(
    backend: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(10**6)))
    report = crash_scenario(backend, tmp_path, items=6_000, parts=4, kills=3, seed=seed)
    print(f"\ncrash[{backend}] {report}")
    assert report.final_items == 6_000
