"""`store.bulk.insert_rows` (issue 18: the ingest's inserts skip SQLAlchemy's per-row work on
SQLite) stores rows exactly as SQLAlchemy's own insert stores them, skips taken keys when
asked, and refuses rows that leave a Python-side default unfilled; `one_of` (issue 31) finds
the values of any list, through json_each on SQLite and without it."""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from feeds.dumps.itemparse import parse_bytes
from feeds.store import Store, bulk
from feeds.store.bulk import insert_rows, one_of, sqlite_has_json_each
from feeds.store.schema import follows, item_topics, items, source_items
from tests.conftest import SAMPLE_DUMPS

NOW = datetime(2026, 12, 1, 10, 30, 15, 123456, tzinfo=UTC)


def sample_rows() -> dict[str, list[dict[str, Any]]]:
    """Rows of every kind the ingest inserts, from the sample dumps' records."""
    path = SAMPLE_DUMPS[0]
    records = parse_bytes(path.read_bytes(), path.name).records
    item_rows = [Store._new_row(record, path.name) for record in records]
    item_rows[1]["shown"] = False  # both values of the Boolean
    ids = range(1, len(item_rows) + 1)
    return {
        "items": item_rows,
        "follows": [
            {"item_id": i, "status": "pending", "attempts": 0, "next_try": NOW} for i in ids
        ],
        "item_topics": [
            {"topic": "news", "item_id": i, "sort_key": row["sort_key"], "lang": row["lang"]}
            | {"shown": row["shown"]}
            for i, row in zip(ids, item_rows, strict=True)
        ],
        "source_items": [
            {"source": path.name, "fingerprint": f"{i:032x}", "key": row["key"], "problems": ""}
            for i, row in zip(ids, item_rows, strict=True)
        ],
    }


TABLES = {"items": items, "follows": follows, "item_topics": item_topics,
          "source_items": source_items}  # fmt: skip


def stored(path: Path, table: str) -> list[tuple[Any, ...]]:
    """The table's rows as SQLite holds them (text, integers), read without SQLAlchemy."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
    finally:
        connection.close()


def test_rows_are_stored_as_sqlalchemys_insert_stores_them(tmp_path: Path) -> None:
    rows = sample_rows()
    paths = {way: tmp_path / f"{way}.sqlite3" for way in ("bulk", "sqlalchemy")}
    for way, path in paths.items():
        store = Store(f"sqlite:///{path}")
        try:
            with store.engine.begin() as connection:
                for name, table in TABLES.items():
                    if way == "bulk":
                        insert_rows(connection, table, rows[name])
                    else:
                        connection.execute(insert(table), rows[name])
        finally:
            store.close()
    for name in TABLES:
        bulk, reference = stored(paths["bulk"], name), stored(paths["sqlalchemy"], name)
        assert bulk == reference and len(bulk) == 19
    first = stored(paths["bulk"], "items")[0]
    # Dates and times as SQLAlchemy writes them: naive UTC, microseconds; Booleans as 1/0.
    assert first[12:15] == (
        "2026-01-10",
        "2026-01-09 19:00:00.000000",
        "2026-01-09 19:00:00.000000",
    )
    assert stored(paths["bulk"], "follows")[0][4] == "2026-12-01 10:30:15.123456"
    # The last two columns: shown (a Boolean as 1/0) and origins.
    assert [row[-2:] for row in stored(paths["bulk"], "items")[:2]] == [(1, "dump"), (0, "dump")]


def test_or_ignore_keeps_the_stored_row_and_inserts_the_others(store: Store) -> None:
    segments = sample_rows()["source_items"]
    first = [{**segments[0], "key": "kept"}]
    with store.engine.begin() as connection:
        insert_rows(connection, source_items, first, or_ignore=True)
        insert_rows(connection, source_items, segments[:3], or_ignore=True)
        keys = connection.scalars(select(source_items.c.key).order_by(source_items.c.fingerprint))
        assert list(keys) == ["kept", segments[1]["key"], segments[2]["key"]]


def test_a_taken_key_fails_the_insert_without_or_ignore(store: Store) -> None:
    segments = sample_rows()["source_items"]
    with store.engine.begin() as connection:
        insert_rows(connection, source_items, segments[:1])
    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        insert_rows(connection, source_items, segments[:2])
    with store.engine.connect() as connection:
        assert connection.scalars(select(source_items.c.fingerprint)).all() == [
            segments[0]["fingerprint"]
        ]


def test_rows_without_a_column_that_has_a_python_default_are_refused(tmp_path: Path) -> None:
    row = {k: v for k, v in sample_rows()["items"][0].items() if k != "other_sources"}
    store = Store(f"sqlite:///{tmp_path / 'feeds.sqlite3'}")
    try:
        with (
            pytest.raises(ValueError, match=r"insert into items: rows without \['other_sources'\]"),
            store.engine.begin() as connection,
        ):
            insert_rows(connection, items, [row])
    finally:
        store.close()


# -- one_of: IN a list, as one bound value ---------------------------------------------------

# Texts that JSON and SQL quote differently, and other scripts' letters.
ODD_KEYS = ["it's", 'a "quoted" one', "back\\slash", "Қазақстан ★", "new\nline", ""]


def one_of_rows(store: Store, count: int) -> tuple[list[str], list[int]]:
    """(the fingerprints found, the item ids found) of `count` fingerprints and ids asked
    for, among them the stored ones (`ODD_KEYS` and two integers)."""
    segments = [
        {"source": "s", "fingerprint": key, "key": None, "problems": ""} for key in ODD_KEYS
    ]
    asked = [f"{i:032x}" for i in range(count)] + ODD_KEYS
    topics = [
        {"topic": "t", "item_id": i, "sort_key": 0, "lang": "en", "shown": True} for i in (3, 7)
    ]
    with store.engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # its foreign keys are enforced
            connection.exec_driver_sql("ALTER TABLE item_topics DROP CONSTRAINT IF EXISTS "
                                       "item_topics_item_id_fkey")  # fmt: skip
        insert_rows(connection, source_items, segments)
        insert_rows(connection, item_topics, topics)
        found = connection.scalars(
            select(source_items.c.fingerprint).where(
                one_of(connection, source_items.c.fingerprint, asked)
            )
        )
        ids = connection.scalars(
            select(item_topics.c.item_id).where(
                one_of(connection, item_topics.c.item_id, range(-count, count))
            )
        )
        return sorted(found), sorted(ids)


def test_one_of_finds_the_values_of_a_huge_list_on_both_stores(store: Store) -> None:
    # 100,000 values: past SQLite's bound parameters (32,766) and PostgreSQL's (65,535).
    assert one_of_rows(store, 100_000) == (sorted(ODD_KEYS), [3, 7])


def test_one_of_is_one_bound_value_whatever_the_list(store: Store) -> None:
    with store.engine.connect() as connection:
        for values in ([], ["a"], [f"{i}" for i in range(5000)]):
            query = select(items.c.id).where(one_of(connection, items.c.key, values))
            compiled = query.compile(connection)
            assert len(compiled.params) == 1
            assert ("json_each" in compiled.string) == (connection.dialect.name == "sqlite")
            assert connection.execute(query).all() == []


def test_sqlite_has_json_each_from_3_38() -> None:
    if sqlite3.sqlite_version_info >= (3, 38):
        assert sqlite_has_json_each()


def test_without_json_each_one_of_is_an_expanding_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "sqlite_has_json_each", lambda: False)
    store = Store(f"sqlite:///{tmp_path / 'feeds.sqlite3'}")
    try:
        with store.engine.connect() as connection:
            query = select(items.c.id).where(one_of(connection, items.c.key, ["a", "b"]))
            assert "json_each" not in query.compile(connection).string
        # The callers' batches (500 values) stay under SQLite's bound parameters.
        assert one_of_rows(store, 490) == (sorted(ODD_KEYS), [3, 7])
    finally:
        store.close()
