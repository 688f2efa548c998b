"""The store: the only module that speaks SQL (SQLAlchemy Core, SQLite or PostgreSQL).

Identity and update rules (SPEC section 3): one row per item key; a known key with the
same content changes nothing (not even a timestamp), with other content it is updated in
place and its `updated` moves while `published` stays. Each ingest of a source is one
transaction, so a crash leaves the store as it was before that source.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from itertools import islice
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from feeds.errors import StoreError
from feeds.records import ItemRecord
from feeds.schema import items, sources, state

BATCH = 500  # keys looked up per query: well under SQLite's bound-parameter limit
CONTENT_VERSION = "content_version"


@dataclass
class IngestCounts:
    found: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated)


@dataclass(frozen=True)
class FeedCount:
    name: str
    items: int
    last_updated: datetime | None


def _batched(records: Sequence[ItemRecord], size: int) -> Iterator[list[ItemRecord]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _merge_sections(stored: str, section: str | None) -> str:
    names = set(filter(None, stored.split("\n")))
    if section:
        names.add(section)
    return "\n".join(sorted(names))


def _content_values(record: ItemRecord) -> dict[str, Any]:
    """The columns a changed item gets from its newest dump version."""
    return {
        "kind": record.kind,
        "govkz_id": record.govkz_id,
        "agency": record.agency,
        "link": record.link,
        "link_lang": record.link_lang,
        "other_sources": "\n".join(record.other_sources),
        "title": record.title,
        "body": record.body,
        "day": record.day,
        "lang": record.lang,
        "content_hash": record.content_hash,
    }


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets feeds be read while an ingest writes; the busy timeout makes a second
    # writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"DATABASE_URL {url!r} is not an SQLAlchemy URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"DATABASE_URL {parsed!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("feeds") / "migrations"))
    config.attributes["connection"] = connection
    return config


class Store:
    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = _engine(url)
        if migrate:
            self.migrate()

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision (a no-op when current)."""
        try:
            with self.engine.begin() as connection:
                config = _alembic_config(connection)
                head = ScriptDirectory.from_config(config).get_current_head()
                if MigrationContext.configure(connection).get_current_revision() != head:
                    command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open or migrate the store at {self.engine.url!r}: {exc}"
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    # -- writing ---------------------------------------------------------------------------

    def ingest(
        self,
        source: str,
        records: Sequence[ItemRecord],
        now: datetime,
        *,
        problems: int = 0,
        content_sha256: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> IngestCounts:
        """Store one source's items in one transaction and record the source's state."""
        counts = IngestCounts(found=len(records))
        with self.engine.begin() as connection:
            for chunk in _batched(records, BATCH):
                self._ingest_batch(connection, source, chunk, now, counts)
                if progress:
                    progress(len(chunk))
            state_values = {
                "content_sha256": content_sha256,
                "etag": etag,
                "last_modified": last_modified,
                "last_ingest": now,
                "items_found": len(records),
                "problems": problems,
            }
            self._record_source(connection, source, state_values)
            if counts.changed:
                self._bump_version(connection)
        return counts

    def _ingest_batch(
        self,
        connection: Connection,
        source: str,
        chunk: list[ItemRecord],
        now: datetime,
        counts: IngestCounts,
    ) -> None:
        query = select(items.c.id, items.c.key, items.c.content_hash, items.c.sections)
        existing = {
            row.key: row
            for row in connection.execute(query.where(items.c.key.in_([r.key for r in chunk])))
        }
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for record in chunk:
            row = existing.get(record.key)
            if row is None:
                inserts.append(self._new_row(record, source, now))
                continue
            sections = _merge_sections(row.sections, record.section)
            if row.content_hash == record.content_hash and sections == row.sections:
                counts.unchanged += 1
                continue
            updates.append(
                {**_content_values(record), "sections": sections, "updated": now, "row_id": row.id}
            )
        if inserts:
            connection.execute(insert(items), inserts)
        if updates:
            statement = update(items).where(items.c.id == bindparam("row_id"))
            connection.execute(statement, updates)
        counts.new += len(inserts)
        counts.updated += len(updates)

    @staticmethod
    def _new_row(record: ItemRecord, source: str, now: datetime) -> dict[str, Any]:
        return {
            **_content_values(record),
            "key": record.key,
            "sections": _merge_sections("", record.section),
            "published": record.published,
            "updated": record.published,
            "position": record.position,
            "first_source": source,
            "first_line": record.line,
        }

    @staticmethod
    def _record_source(connection: Connection, name: str, values: dict[str, Any]) -> None:
        done = connection.execute(update(sources).where(sources.c.name == name).values(**values))
        if not done.rowcount:
            connection.execute(insert(sources).values(name=name, **values))

    @staticmethod
    def _bump_version(connection: Connection) -> None:
        """Move the content version that rendered feeds are keyed by."""
        where = state.c.name == CONTENT_VERSION
        current = connection.scalar(select(state.c.value).where(where))
        if current is None:
            connection.execute(insert(state).values(name=CONTENT_VERSION, value="1"))
        else:
            connection.execute(update(state).where(where).values(value=str(int(current) + 1)))

    # -- reading ---------------------------------------------------------------------------

    def content_version(self) -> int:
        with self.engine.connect() as connection:
            value = connection.scalar(select(state.c.value).where(state.c.name == CONTENT_VERSION))
        return int(value or 0)

    def source_state(self, name: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(sources).where(sources.c.name == name)).first()
        return row._asdict() if row else None

    def item_rows(self) -> list[dict[str, Any]]:
        """Every item row, in id order (for inspection and tests)."""
        with self.engine.connect() as connection:
            return [row._asdict() for row in connection.execute(select(items).order_by(items.c.id))]

    def count_items(self) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(items)) or 0

    def agency_counts(self) -> list[FeedCount]:
        query = (
            select(items.c.agency, func.count(), func.max(items.c.updated))
            .where(items.c.agency.is_not(None))
            .group_by(items.c.agency)
            .order_by(items.c.agency)
        )
        with self.engine.connect() as connection:
            return [FeedCount(*row) for row in connection.execute(query)]

    def section_counts(self) -> list[FeedCount]:
        totals: dict[str, list[Any]] = {}
        with self.engine.connect() as connection:
            for names, updated in connection.execute(select(items.c.sections, items.c.updated)):
                for name in filter(None, names.split("\n")):
                    entry = totals.setdefault(name, [0, updated])
                    entry[0] += 1
                    entry[1] = max(entry[1], updated)
        return [FeedCount(name, count, last) for name, (count, last) in sorted(totals.items())]
