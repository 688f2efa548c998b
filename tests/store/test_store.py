"""Identity and update rules of the store (SPEC section 3), on SQLite and PostgreSQL."""

import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, column, create_engine, inspect, select, table

import feeds.store.items as store_items
from feeds.dumps.records import ItemRecord, atom_id, item_uid
from feeds.dumps.sources import Source
from feeds.ingest import Ingester, parse_bytes
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.engine import SQLITE_PAGE_BYTES
from feeds.store.schema import item_topics, items
from tests.conftest import SAMPLE_DUMPS

NOW = datetime(2026, 1, 11, 8, 0, tzinfo=UTC)


def ingest_file(store: Store, path: Path, now: datetime = NOW, name: str | None = None):
    parsed = parse_bytes(path.read_bytes(), name or str(path))
    return store.ingest(name or str(path), parsed.records, now)


def test_schema_is_created_on_first_use(database_url: str) -> None:
    store = Store(database_url)
    assert {"items", "sources", "state", "alembic_version"} <= set(
        inspect(store.engine).get_table_names()
    )
    store.close()
    Store(database_url).close()  # a second open finds it current and changes nothing


_KILLED_MID_MIGRATION = """
import os, signal, sys
from sqlalchemy import event
from feeds.store import Store

store = Store(sys.argv[1], migrate=False)

@event.listens_for(store.engine, "before_cursor_execute")
def _kill(conn, cursor, statement, *args):
    if "CREATE TABLE follows" in statement:  # after items and others were created
        os.kill(os.getpid(), signal.SIGKILL)

store.migrate()
"""


def test_a_first_start_killed_mid_migration_leaves_no_schema_and_the_next_one_migrates(
    database_url: str,
) -> None:
    killed = subprocess.run([sys.executable, "-c", _KILLED_MID_MIGRATION, database_url])
    assert killed.returncode == -signal.SIGKILL
    engine = create_engine(database_url)
    assert set(inspect(engine).get_table_names()) == set()  # not half a schema
    engine.dispose()
    store = Store(database_url)
    assert store.revision() == head_revision()
    assert ingest_file(store, SAMPLE_DUMPS[0]).new == 19
    store.close()


def test_reingest_changes_nothing(store: Store) -> None:
    first = [ingest_file(store, path) for path in SAMPLE_DUMPS]
    assert [(c.found, c.new, c.updated, c.unchanged) for c in first] == [
        (19, 19, 0, 0),
        (18, 18, 0, 0),
    ]
    rows_before = store.item_rows()
    version_before = store.content_version()
    again = [ingest_file(store, path, NOW + timedelta(hours=1)) for path in SAMPLE_DUMPS]
    assert [(c.found, c.new, c.updated, c.unchanged) for c in again] == [
        (19, 0, 0, 19),
        (18, 0, 0, 18),
    ]
    assert store.item_rows() == rows_before
    assert store.content_version() == version_before == 2


def test_edited_item_is_updated_in_place(store: Store, tmp_path: Path) -> None:
    original = SAMPLE_DUMPS[0]
    ingest_file(store, original, name="dump.txt")
    before = {row["release"]: row for row in store.item_rows()}
    edited = tmp_path / "edited.txt"
    edited.write_text(
        original.read_text(encoding="utf-8").replace(
            "Almaty Zoo has launched", "The Almaty Zoo has launched"
        ),
        encoding="utf-8",
    )
    later = NOW + timedelta(days=1)
    counts = ingest_file(store, edited, later, name="dump.txt")
    assert (counts.new, counts.updated, counts.unchanged) == (0, 1, 18)
    after = {row["release"]: row for row in store.item_rows()}
    assert len(after) == 19
    zoo = after["govkz:press/news:1139146"]
    assert zoo["body"].startswith("The Almaty Zoo has launched")
    assert zoo["published"] == before["govkz:press/news:1139146"]["published"]
    assert zoo["published"] == datetime(2026, 1, 9, 19, 0, tzinfo=UTC)  # 10.01.2026 00:00 +05:00
    assert zoo["updated"] == later
    assert zoo["id"] == before["govkz:press/news:1139146"]["id"]
    unchanged = {k: v for k, v in after.items() if k != "govkz:press/news:1139146"}
    assert unchanged == {k: v for k, v in before.items() if k != "govkz:press/news:1139146"}


def test_same_item_in_another_section_joins_it(store: Store, tmp_path: Path) -> None:
    world = tmp_path / "world.txt"
    world.write_text(
        "World\nKazakh Foreign Ministry and KazMunayGas 10.01.2026\nA meeting was held.Source : "
        "https://www.gov.kz/memleket/entities/mfa/press/news/details/1139153?lang=kk",
        encoding="utf-8",
    )
    ingest_file(store, SAMPLE_DUMPS[0])
    counts = ingest_file(store, world)
    assert (counts.new, counts.updated) == (0, 1)
    (row,) = [r for r in store.item_rows() if r["release"] == "govkz:press/news:1139153"]
    assert row["sections"] == "News\nWorld"
    assert row["title"] == "Kazakh Foreign Ministry and KazMunayGas"


def test_atom_ids_survive_a_rebuilt_database(settings: Settings, tmp_path: Path) -> None:
    ids = []
    for number in (1, 2):
        store = Store(f"sqlite:///{tmp_path / f'rebuilt{number}.sqlite3'}")
        for path in reversed(SAMPLE_DUMPS) if number == 2 else SAMPLE_DUMPS:
            ingest_file(store, path)
        ids.append(sorted(atom_id(row["key"]) for row in store.item_rows()))
        store.close()
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == 37
    # Pinned: these ids are in subscribers' readers; they must never change. (They changed
    # once, before there were subscribers, when items became versions: migration 0005.)
    news = "govkz:press/news:1139165#en"
    assert atom_id(news) == "urn:uuid:4e95de21-1656-5038-9a8e-0cfeb8e0a2fb"
    majilis = "title:2026-01-10:a majilis deputy held a meeting with students in shymkent#en"
    assert atom_id(majilis) == "urn:uuid:e1c2628c-85e6-5c7f-9e4d-2ba0f3039139"


def test_unchanged_file_is_skipped_when_asked(store: Store, settings: Settings) -> None:
    ingester = Ingester(store, settings)
    source = Source(str(SAMPLE_DUMPS[0]))
    assert ingester.ingest(source, skip_unchanged=True).counts.new == 19
    assert ingester.ingest(source, skip_unchanged=True).skipped is True
    assert ingester.ingest(source).counts.unchanged == 19


def insert_old_row(connection: Connection, record: ItemRecord, source: str) -> None:
    """Insert the row an ingest before 0005 wrote: keyed by the release, no versions."""
    row = Store._new_row(record, source)
    del row["release"], row["shown"], row["origins"]  # columns of 0005 and 0008
    row |= {"key": record.release, "uid": item_uid(record.release)}
    connection.execute(table("items", *map(column, row)).insert().values(row))


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from feeds.store.engine import alembic_config

    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()  # type: ignore[arg-type]


def test_old_schema_is_migrated_on_first_use(database_url: str) -> None:
    from alembic import command

    from feeds.store.engine import alembic_config as _alembic_config

    old = Store(database_url, migrate=False)
    parsed = parse_bytes(SAMPLE_DUMPS[0].read_bytes(), "old.txt").records[1]  # a news item
    with old.engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")  # a store as the first release left it
        insert_old_row(connection, parsed, "old.txt")
    assert old.revision() == "0001"
    old.close()
    store = Store(database_url)  # opening it migrates, keeping the data
    assert store.revision() == head_revision()
    (row,) = store.item_rows()
    assert store.follow_state(row["id"])["status"] == "pending"  # 0002 made it due
    counts = ingest_file(store, SAMPLE_DUMPS[0], name="old.txt")
    assert (counts.new, counts.unchanged) == (18, 1)
    store.close()


def test_topic_rows_of_an_old_store_get_their_items_language(database_url: str) -> None:
    """0004 copies each item's language into its topic rows, which `?lang=` pages read."""
    from alembic import command
    from sqlalchemy import select, text

    from feeds.store.engine import alembic_config as _alembic_config
    from feeds.store.schema import item_topics, items

    old = Store(database_url, migrate=False)
    records = parse_bytes(SAMPLE_DUMPS[0].read_bytes(), "old.txt").records
    with old.engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0003")
        for record in records[:3]:
            insert_old_row(connection, record, "old.txt")
        connection.execute(
            text(
                "INSERT INTO item_topics (topic, item_id, sort_key) SELECT 'news', id, sort_key FROM items"
            )
        )
        languages = dict(connection.execute(select(items.c.id, items.c.lang)).all())
        newest_first = list(
            connection.scalars(select(items.c.id).order_by(items.c.sort_key.desc()))
        )
    old.close()
    store = Store(database_url)
    with store.engine.connect() as connection:
        copied = dict(connection.execute(select(item_topics.c.item_id, item_topics.c.lang)).all())
    assert copied == languages and set(languages.values()) == {"en"}
    page = store.feed_rows(limit=5, topic="news", lang="en")
    assert [row.id for row in page.rows] == newest_first == [1, 2, 3]  # the dump's order
    store.close()


def test_the_migrations_make_the_schema_the_code_declares(database_url: str) -> None:
    """feeds/store/schema.py (what the queries use) and the Alembic revisions (what a store gets)
    declare the same tables, columns and indexes."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from feeds.store.schema import declared_here, metadata

    store = Store(database_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": declared_here})
        differences = compare_metadata(context, metadata)
    store.close()
    assert differences == []


def test_0005_gives_an_old_store_the_ids_a_fresh_ingest_gives(
    database_url: str, tmp_path: Path
) -> None:
    """Releases become versions: each old row keeps its id, topics and follow state and gets
    the key, uid and release of a fresh ingest of the same dumps (the one change of Atom ids
    docs/SPEC.md announces); every old row is its release's shown version."""
    from alembic import command
    from sqlalchemy import select

    from feeds.store.engine import alembic_config as _alembic_config
    from feeds.store.schema import follows, items

    old = Store(database_url, migrate=False)
    records = [
        record
        for path in SAMPLE_DUMPS
        for record in parse_bytes(path.read_bytes(), path.name).records
    ]
    with old.engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0004")
        for record in records:
            insert_old_row(connection, record, "old.txt")
        connection.execute(follows.insert().values(item_id=2, status="ok", attempts=0))
    old.close()
    store = Store(database_url)
    assert store.revision() == head_revision()
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    for path in SAMPLE_DUMPS:
        ingest_file(fresh, path, name="old.txt")

    def identities(store: Store) -> list[tuple[Any, ...]]:
        with store.engine.connect() as connection:
            query = select(items.c.key, items.c.uid, items.c.release, items.c.shown)
            return sorted(connection.execute(query).all())

    assert identities(store) == identities(fresh)
    assert len(identities(store)) == 37 and all(row[3] for row in identities(store))
    assert store.follow_state(2)["status"] == "ok"
    assert [row.title for row in store.feed_rows(limit=50).rows] == [
        row.title for row in fresh.feed_rows(limit=50).rows
    ]
    store.close()
    fresh.close()


_STARTS_AT = """
import sys, time
from feeds.store import Store

time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all at the same moment
Store(sys.argv[1]).close()
"""


def test_processes_starting_at_once_on_a_new_store_all_open_it(database_url: str) -> None:
    """A web server, an ingest from cron and a scheduler started together on an empty store:
    one migrates, the others wait for it and find the schema current (they used to race to
    CREATE TABLE, and all but one failed to start)."""
    at = str(time.time() + 2)
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", _STARTS_AT, database_url, at], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=60)[1] for process in starts]
    assert [process.returncode for process in starts] == [0, 0, 0, 0], errors
    store = Store(database_url)
    assert store.revision() == head_revision()
    store.close()


_HOLDS_THE_WRITE_LOCK = """
import sqlite3, sys, time

# A store file still in rollback-journal mode whose write lock another process holds: what
# a process starting at once sees while the first one switches a new store to WAL.
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("CREATE TABLE waiting (a)")
connection.execute("BEGIN IMMEDIATE")
connection.execute("INSERT INTO waiting VALUES (1)")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


def test_a_store_opened_while_another_process_holds_its_write_lock_waits_for_it(
    tmp_path: Path,
) -> None:
    """SQLite refuses at once, whatever the busy timeout, the WAL switch of a connection
    while another process writes the file in rollback mode: the race of processes starting
    together on a new store (issue 30). The switch is tried again until the lock is free."""
    path = tmp_path / "feeds.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDS_THE_WRITE_LOCK, str(path), "1.5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
    store = Store(f"sqlite:///{path}")  # "database is locked" at once, before
    assert holder.wait(timeout=30) == 0
    assert store.revision() == head_revision()
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert connection.exec_driver_sql("SELECT count(*) FROM waiting").scalar() == 1
    store.close()


def _page_size(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA page_size").fetchone()[0]
    finally:
        connection.close()


def test_a_new_sqlite_store_has_8_kb_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    """Issue 31: new stores are made with SQLITE_PAGE_BYTES pages (an item's row is about
    2.3 kB); a store made before, with SQLite's 4 kB, is opened and written as it is."""
    new = tmp_path / "new.sqlite3"
    store = Store(f"sqlite:///{new}")
    assert ingest_file(store, SAMPLE_DUMPS[0]).new == 19
    feed = [(row.key, row.title) for row in store.feed_rows(limit=50).rows]
    store.close()
    assert len(feed) == 19
    assert _page_size(new) == SQLITE_PAGE_BYTES == 8192
    old = tmp_path / "old.sqlite3"
    made = sqlite3.connect(old)  # as a store of an earlier release was made: 4 kB pages, WAL
    made.execute("PRAGMA journal_mode=WAL")
    made.execute("CREATE TABLE waiting (n INTEGER)")
    made.close()
    store = Store(f"sqlite:///{old}")
    assert ingest_file(store, SAMPLE_DUMPS[0]).new == 19
    assert [(row.key, row.title) for row in store.feed_rows(limit=50).rows] == feed
    store.close()
    assert _page_size(old) == 4096


def topic_rows(store: Store) -> list[tuple[Any, ...]]:
    with store.engine.connect() as connection:
        query = select(item_topics).order_by(item_topics.c.item_id, item_topics.c.topic)
        return [tuple(row) for row in connection.execute(query)]


def keyed_topic_rows(store: Store) -> list[tuple[Any, ...]]:
    """Topic rows with their item's key for its id (ids are not reused on PostgreSQL)."""
    keys = {row["id"]: row["key"] for row in store.item_rows()}
    return sorted((keys[row[1]], row[0], *row[2:]) for row in topic_rows(store))


def by_words(title: str, body: str, sections: list[str]) -> frozenset[str]:
    """Topics from the text and sections, so that an edited item's topics change."""
    words = {word.lower().strip(".,") for word in title.split()[:2]}
    return frozenset({*filter(None, sections), *(f"w-{w}" for w in words if w.isalpha())})


def test_new_items_get_the_topics_the_old_lookup_gave_them(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 31: the topic rows of items just inserted are neither read nor deleted. A store
    where every item took the lookup holds the same rows and reports the same topics."""
    found: dict[str, tuple[list[Any], list[Any]]] = {}
    for way in ("skipped", "looked up"):
        if way == "looked up":  # as if every id had topic rows: the path of before
            monkeypatch.setattr(store_items, "_last_with_topics", lambda _: 2**62)
        store = Store(database_url)
        try:
            counts = []
            for path in SAMPLE_DUMPS:
                records = parse_bytes(path.read_bytes(), path.name).records
                edited = [replace(records[0], title="Edited " + records[0].title), *records[1:]]
                for batch, now in ((records, NOW), (edited, NOW + timedelta(hours=1))):
                    done = store.ingest(path.name, batch, now, topics_of=by_words)
                    counts.append((done.new, done.updated, sorted(done.touched.topics)))
            found[way] = (counts, keyed_topic_rows(store))
            with store.engine.begin() as connection:
                for name in ("item_topics", "follows", "search_index", "items", "source_items"):
                    connection.exec_driver_sql(f"DELETE FROM {name}")
        finally:
            store.close()
    assert found["skipped"] == found["looked up"]
    assert len(found["skipped"][1]) > 37


def test_a_new_item_on_the_id_of_one_removed_by_hand_gets_only_its_own_topics(
    store: Store,
) -> None:
    """SQLite gives the next item the id of the last one removed, and, enforcing no foreign
    keys, leaves the removed one's topic rows: the new item's are still its own alone."""
    path = SAMPLE_DUMPS[0]
    records = parse_bytes(path.read_bytes(), path.name).records
    store.ingest("first", records[:5], NOW, topics_of=lambda *_: frozenset({"old", "older"}))
    with store.engine.begin() as connection:
        last = max(connection.scalars(select(items.c.id)))
        for name, column in (("follows", "item_id"), ("items", "id")):
            connection.exec_driver_sql(f"DELETE FROM {name} WHERE {column} = {last}")
    store.ingest("second", records[5:6], NOW, topics_of=lambda *_: frozenset({"new"}))
    with store.engine.connect() as connection:
        (new_id,) = connection.scalars(select(items.c.id).where(items.c.key == records[5].key))
    assert [row[0] for row in topic_rows(store) if row[1] == new_id] == ["new"]
