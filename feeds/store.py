"""The store: the only module that speaks SQL (SQLAlchemy Core, SQLite or PostgreSQL).

Identity and update rules (SPEC section 3): one row per item key; a known key with the
same content changes nothing (not even a timestamp), with other content it is updated in
place and its `updated` moves while `published` stays. Each ingest of a source is one
transaction, so a crash leaves the store as it was before that source.
"""

import contextlib
import fcntl
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
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
    delete,
    event,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.sql import ColumnElement, Select

from feeds.enrich import FOLLOWED_KINDS, Enrichment
from feeds.errors import StoreError
from feeds.records import ItemRecord, item_uid, sort_key
from feeds.schema import follows, item_topics, items, rendered, sources, state

CONTENT_VERSION = "content_version"
PAGES_FINGERPRINT = "pages_fingerprint"
_VERSION_SQL = f"SELECT value FROM state WHERE name = '{CONTENT_VERSION}'"
CONNECT_TIMEOUT = 5  # seconds
# What a store that cannot be reached (or fails) raises, to whoever must answer anyway.
STORE_FAULTS = (StoreError, SQLAlchemyError)
BATCH = 500  # keys looked up per query: well under SQLite's bound-parameter limit
TOPICS_FINGERPRINT = "topics_fingerprint"
SECTIONS = "sections"

# (title, body, sections) -> topic slugs; the ingest passes the configured classifier.
TopicsOf = Callable[[str, str, list[str]], frozenset[str]]


def sections_only(title: str, body: str, sections: list[str]) -> frozenset[str]:
    return frozenset(filter(None, sections))


@dataclass
class Touched:
    """Which feeds a write changed: its items' agencies and their topics before and after."""

    agencies: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.agencies or self.topics)

    def add(self, other: "Touched") -> None:
        self.agencies |= other.agencies
        self.topics |= other.topics


@dataclass
class IngestCounts:
    found: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    touched: Touched = field(default_factory=Touched)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated)


Cursor = tuple[int, int]  # (sort_key, item id) of an item a page starts after or before


@dataclass(frozen=True)
class FeedRows:
    rows: list[dict[str, Any]]
    more: bool  # items exist beyond this page in the direction it was read


@dataclass(frozen=True)
class DueFollow:
    item_id: int
    govkz_id: str
    lang: str  # of the item's text (detected), which the API is asked for
    attempts: int


@dataclass(frozen=True)
class FollowStats:
    """Items by follow state, for operators: `failing` ones failed and will be tried again;
    `oldest_pending` is since when the longest-waiting never-answered item has been due."""

    pending: int
    ok: int
    failing: int
    gone: int
    oldest_pending: datetime | None

    def as_dict(self, now: datetime) -> dict[str, int | float | None]:
        waited = None
        if self.oldest_pending is not None:  # a due time ahead (an item put off) is 0 waited
            waited = max(round((now - self.oldest_pending).total_seconds(), 1), 0.0)
        return {
            "pending": self.pending,
            "ok": self.ok,
            "failing": self.failing,
            "gone": self.gone,
            "oldest_pending_seconds": waited,
        }


@dataclass(frozen=True)
class FeedCount:
    name: str
    items: int
    last_updated: datetime | None


@dataclass(frozen=True)
class Summary:
    """The aggregates behind the index, the OPML and the feed pages' headers."""

    items: int
    agencies: list[FeedCount]  # each agency's own items
    topics: list[FeedCount]
    # ("all", "") / ("agency", slug) / ("topic", slug) -> items per language
    languages: dict[tuple[str, str], dict[str, int]]

    def to_json(self) -> bytes:
        def counts(rows: list[FeedCount]) -> list[list[Any]]:
            return [[r.name, r.items, r.last_updated and r.last_updated.isoformat()] for r in rows]

        languages = [[kind, slug, langs] for (kind, slug), langs in self.languages.items()]
        return json.dumps(
            {
                "items": self.items,
                "agencies": counts(self.agencies),
                "topics": counts(self.topics),
                "languages": languages,
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "Summary":
        decoded = json.loads(data)

        def counts(rows: list[list[Any]]) -> list[FeedCount]:
            return [
                FeedCount(name, n, datetime.fromisoformat(at) if at else None)
                for name, n, at in rows
            ]

        return cls(
            decoded["items"],
            counts(decoded["agencies"]),
            counts(decoded["topics"]),
            {(kind, slug): langs for kind, slug, langs in decoded["languages"]},
        )


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


_ENRICHMENT_COLUMNS = (
    follows.c.title.label("api_title"),
    follows.c.body_html.label("api_body_html"),
    follows.c.image.label("api_image"),
)
_NO_ENRICHMENT = {column.name: None for column in _ENRICHMENT_COLUMNS}


def _with_enrichment(query: Select) -> Select:
    """Add what following the item's link brought, when it did (columns api_*)."""
    return query.outerjoin(follows, follows.c.item_id == items.c.id).add_columns(
        *_ENRICHMENT_COLUMNS
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets feeds be read while an ingest writes; the busy timeout makes a second
    # writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _connect_args(url: URL) -> dict[str, Any]:
    # An unreachable PostgreSQL host must fail a request in seconds, not hang its worker
    # (libpq waits forever by default); a URL's own connect_timeout wins.
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        return {"connect_timeout": CONNECT_TIMEOUT}
    return {}


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"DATABASE_URL {url!r} is not an SQLAlchemy URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        # A ping before each checkout finds PostgreSQL connections a restart broke; an
        # SQLite file cannot go away under us, and the ping would cost every request.
        engine = create_engine(
            parsed,
            pool_pre_ping=parsed.get_backend_name() != "sqlite",
            connect_args=_connect_args(parsed),
        )
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
        self._local = threading.local()
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

    def revision(self) -> str | None:
        """The schema revision the database is at (None: no schema yet)."""
        try:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {self.engine.url!r}: {exc}") from None

    def close(self) -> None:
        self.engine.dispose()

    # -- writing ---------------------------------------------------------------------------

    def ingest(
        self,
        source: str,
        records: Sequence[ItemRecord],
        now: datetime,
        *,
        topics_of: TopicsOf = sections_only,
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
                self._ingest_batch(connection, source, chunk, now, counts, topics_of)
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
            self._note_sections(connection, {r.section for r in records if r.section})
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
        topics_of: TopicsOf,
    ) -> None:
        query = select(
            items.c.id, items.c.key, items.c.content_hash, items.c.sections, items.c.sort_key
        )
        keys = [r.key for r in chunk]
        existing = {row.key: row for row in connection.execute(query.where(items.c.key.in_(keys)))}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for record in chunk:
            row = existing.get(record.key)
            if row is None:
                inserts.append(self._new_row(record, source))
                continue
            sections = _merge_sections(row.sections, record.section)
            if row.content_hash == record.content_hash and sections == row.sections:
                counts.unchanged += 1
                continue
            values = {**_content_values(record), "sections": sections, "updated": now}
            updates.append({**values, "row_id": row.id, "sort_key": row.sort_key})
        if inserts:
            self._insert_items(connection, inserts, now)
        if updates:
            connection.execute(update(items).where(items.c.id == bindparam("row_id")), updates)
        changed = [*inserts, *updates]
        counts.touched.topics |= self._write_topics(connection, changed, topics_of)
        counts.touched.agencies |= {row["agency"] for row in changed if row["agency"]}
        counts.new += len(inserts)
        counts.updated += len(updates)

    @staticmethod
    def _insert_items(connection: Connection, inserts: list[dict[str, Any]], now: datetime) -> None:
        """Insert new items (their ids go into `row_id`) and make the followable ones due."""
        # A plain executemany, then the ids by key: RETURNING in parameter order makes
        # SQLite insert one row per statement (measured: the largest cost of an ingest).
        connection.execute(insert(items), inserts)
        keys = [v["key"] for v in inserts]
        ids = dict(
            connection.execute(select(items.c.key, items.c.id).where(items.c.key.in_(keys))).all()
        )
        for values in inserts:
            values["row_id"] = ids[values["key"]]
        due = [
            {"item_id": v["row_id"], "status": "pending", "attempts": 0, "next_try": now}
            for v in inserts
            if v["kind"] in FOLLOWED_KINDS
        ]
        if due:
            connection.execute(insert(follows), due)

    @staticmethod
    def _write_topics(
        connection: Connection, rows: list[dict[str, Any]], topics_of: TopicsOf
    ) -> set[str]:
        """Replace the topic rows of these items by what `topics_of` says now; the topics
        they had or have."""
        if not rows:
            return set()
        ids = [row["row_id"] for row in rows]
        old = select(item_topics.c.topic).where(item_topics.c.item_id.in_(ids)).distinct()
        touched = set(connection.scalars(old))
        connection.execute(delete(item_topics).where(item_topics.c.item_id.in_(ids)))
        topic_rows = [
            {
                "topic": topic,
                "item_id": row["row_id"],
                "sort_key": row["sort_key"],
                "lang": row["lang"],
            }
            for row in rows
            for topic in sorted(topics_of(row["title"], row["body"], row["sections"].split("\n")))
        ]
        if topic_rows:
            connection.execute(insert(item_topics), topic_rows)
        return touched | {row["topic"] for row in topic_rows}

    def reclassify(self, topics_of: TopicsOf, fingerprint: str) -> int:
        """Recompute every item's topics when the rules changed; the number of items changed."""
        changed = 0
        with self.engine.begin() as connection:
            stored = connection.scalar(
                select(state.c.value).where(state.c.name == TOPICS_FINGERPRINT)
            )
            if stored == fingerprint:
                return 0
            current: dict[int, set[str]] = {}
            for item_id, topic in connection.execute(
                select(item_topics.c.item_id, item_topics.c.topic)
            ):
                current.setdefault(item_id, set()).add(topic)
            query = select(
                items.c.id,
                items.c.title,
                items.c.body,
                items.c.sections,
                items.c.sort_key,
                items.c.lang,
            )
            stale = [
                {**row._asdict(), "row_id": row.id}
                for row in connection.execute(query)
                if topics_of(row.title, row.body, row.sections.split("\n"))
                != current.get(row.id, set())
            ]
            for chunk in _batched(stale, BATCH):
                self._write_topics(connection, chunk, topics_of)
            changed = len(stale)
            self._set_state(connection, TOPICS_FINGERPRINT, fingerprint)
            if changed:
                self._bump_version(connection)
        return changed

    @staticmethod
    def _new_row(record: ItemRecord, source: str) -> dict[str, Any]:
        return {
            **_content_values(record),
            "key": record.key,
            "uid": item_uid(record.key),
            "sections": _merge_sections("", record.section),
            "published": record.published,
            "updated": record.published,
            "position": record.position,
            "sort_key": record.sort_key,
            "first_source": source,
            "first_line": record.line,
        }

    @staticmethod
    def _record_source(connection: Connection, name: str, values: dict[str, Any]) -> None:
        done = connection.execute(update(sources).where(sources.c.name == name).values(**values))
        if not done.rowcount:
            connection.execute(insert(sources).values(name=name, **values))

    def _note_sections(self, connection: Connection, seen: set[str]) -> None:
        """Keep the list of section names, so that listing them never scans the items."""
        known = set(
            json.loads(
                connection.scalar(select(state.c.value).where(state.c.name == SECTIONS)) or "[]"
            )
        )
        if not seen <= known:
            self._set_state(
                connection, SECTIONS, json.dumps(sorted(known | seen), ensure_ascii=False)
            )

    @staticmethod
    def _set_state(connection: Connection, name: str, value: str) -> None:
        done = connection.execute(update(state).where(state.c.name == name).values(value=value))
        if not done.rowcount:
            connection.execute(insert(state).values(name=name, value=value))

    def _bump_version(self, connection: Connection) -> None:
        """Move the content version that rendered feeds are keyed by."""
        current = connection.scalar(select(state.c.value).where(state.c.name == CONTENT_VERSION))
        version = int(current or 0) + 1
        self._set_state(connection, CONTENT_VERSION, str(version))
        # Pages of older versions will never be served again.
        connection.execute(delete(rendered).where(rendered.c.version < version))

    # -- reading ---------------------------------------------------------------------------

    def content_version(self) -> int:
        """The version every rendered page is keyed by: read on every feed request, so it
        goes straight to a DB-API connection of this thread (no pool checkout, no statement
        compiling), which takes a few microseconds instead of a hundred.

        A connection the server dropped (a restart, pg_terminate_backend) fails once: the
        read is tried again on a fresh connection, so readers never see it, and the normal
        case costs no extra round trip (a pre-ping would cost one per request)."""
        faults = (self.engine.dialect.loaded_dbapi.Error, SQLAlchemyError)
        try:
            return self._read_version()
        except faults:
            self._drop_version_reader()
        try:
            return self._read_version()
        except faults as exc:
            self._drop_version_reader()
            raise StoreError(f"cannot read the content version: {exc}") from None

    def _read_version(self) -> int:
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = self._version_reader()
        cursor = reader.cursor()
        cursor.execute(_VERSION_SQL)
        row = cursor.fetchone()
        cursor.close()
        return int(row[0]) if row else 0

    def _drop_version_reader(self) -> None:
        reader, self._local.reader = getattr(self._local, "reader", None), None
        if reader is not None:
            # Already broken: closing it only frees the socket.
            with contextlib.suppress(self.engine.dialect.loaded_dbapi.Error):
                reader.close()

    def _version_reader(self) -> Any:
        fairy = self.engine.raw_connection()
        fairy.detach()  # this thread's own, for as long as the thread lives
        connection = fairy.dbapi_connection
        if self.engine.dialect.name == "postgresql":
            connection.autocommit = True  # each read sees the newest commit; no open transaction
        return connection

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

    def summary(self) -> Summary:
        """Every aggregate at once: scans of the whole store (1.4 s at 200,000 items), so
        callers keep the result per content version (`FeedService.summary`)."""
        return Summary(
            self.count_items(), self.agency_counts(), self.topic_counts(), self.language_counts()
        )

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

    # -- feeds -----------------------------------------------------------------------------

    def feed_rows(
        self,
        *,
        limit: int,
        agencies: frozenset[str] | None = None,
        topic: str | None = None,
        lang: str | None = None,
        after: Cursor | None = None,
        before: Cursor | None = None,
    ) -> FeedRows:
        """One page of a feed, newest first, with a look-ahead row to tell if more exist.

        `after` gives the page of items older than that cursor, `before` the page of items
        newer than it; both are exclusive, so pages never overlap however items arrive."""
        query = _page_query(limit + 1, agencies, topic, lang, after, before)
        with self.engine.connect() as connection:
            rows = [row._asdict() for row in connection.execute(query)]
            more = len(rows) > limit
            rows = rows[:limit]
            if before is not None:
                rows.reverse()
            ids = [row["id"] for row in rows]
            topics = self._topics_of(connection, ids)
            # Joined only to the page's rows: joining before ORDER BY/LIMIT made SQLite sort
            # a parent agency's whole subtree.
            enriched = self._enrichment_of(connection, ids)
        for row in rows:
            row["topics"] = topics.get(row["id"], [])
            row.update(enriched.get(row["id"], _NO_ENRICHMENT))
        return FeedRows(rows, more)

    @staticmethod
    def _topics_of(connection: Connection, ids: list[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        if ids:
            query = select(item_topics.c.item_id, item_topics.c.topic).where(
                item_topics.c.item_id.in_(ids)
            )
            for item_id, topic in connection.execute(query.order_by(item_topics.c.topic)):
                found.setdefault(item_id, []).append(topic)
        return found

    @staticmethod
    def _enrichment_of(connection: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        query = select(follows.c.item_id, *_ENRICHMENT_COLUMNS).where(
            follows.c.item_id.in_(ids), follows.c.content_hash.is_not(None)
        )
        return {
            row[0]: dict(zip(_NO_ENRICHMENT, row[1:], strict=True))
            for row in connection.execute(query)
        }

    def item_by_uid(self, uid: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                _with_enrichment(select(items)).where(items.c.uid == uid)
            ).first()
            if row is None:
                return None
            found = row._asdict()
            found["topics"] = self._topics_of(connection, [found["id"]]).get(found["id"], [])
        return found

    def topic_counts(self) -> list[FeedCount]:
        query = (
            select(item_topics.c.topic, func.count(), func.max(items.c.updated))
            .join(items, items.c.id == item_topics.c.item_id)
            .group_by(item_topics.c.topic)
            .order_by(item_topics.c.topic)
        )
        with self.engine.connect() as connection:
            return [FeedCount(*row) for row in connection.execute(query)]

    def language_counts(self) -> dict[tuple[str, str], dict[str, int]]:
        """Items per language of everything ("all", ""), each agency's own items
        ("agency", slug) and each topic ("topic", slug)."""
        queries = {
            "all": select(literal(""), items.c.lang, func.count()).group_by(items.c.lang),
            "agency": select(items.c.agency, items.c.lang, func.count())
            .where(items.c.agency.is_not(None))
            .group_by(items.c.agency, items.c.lang),
            "topic": select(item_topics.c.topic, item_topics.c.lang, func.count()).group_by(
                item_topics.c.topic, item_topics.c.lang
            ),
        }
        counts: dict[tuple[str, str], dict[str, int]] = {}
        with self.engine.connect() as connection:
            for kind, query in queries.items():
                for slug, lang, count in connection.execute(query):
                    counts.setdefault((kind, slug), {})[lang] = count
        return counts

    def agency_slugs(self) -> set[str]:
        with self.engine.connect() as connection:
            return set(
                connection.scalars(
                    select(items.c.agency).where(items.c.agency.is_not(None)).distinct()
                )
            )

    def section_names(self) -> list[str]:
        return json.loads(self.get_state(SECTIONS) or "[]")

    def last_ingest(self) -> datetime | None:
        with self.engine.connect() as connection:
            return connection.scalar(select(func.max(sources.c.last_ingest)))

    # -- following ---------------------------------------------------------------------------

    def due_follows(self, now: datetime, limit: int) -> list[DueFollow]:
        """Items whose gov.kz link should be followed now: those never failed first, longest
        waiting first; then those that failed before, fewest failures first. A few items
        that keep failing never hold the head of the queue."""
        due = (
            select(follows.c.item_id, items.c.govkz_id, items.c.lang, follows.c.attempts)
            .join(items, items.c.id == follows.c.item_id)
            .where(follows.c.next_try <= now)
        )
        # Two queries on the next_try index rather than one ORDER BY attempts: the first
        # skips only the failing items that are due, the second reads only those.
        fresh = due.where(follows.c.attempts == 0).order_by(follows.c.next_try, follows.c.item_id)
        failing = due.where(follows.c.attempts > 0).order_by(
            follows.c.attempts, follows.c.next_try, follows.c.item_id
        )
        with self.engine.connect() as connection:
            rows = list(connection.execute(fresh.limit(limit)))
            if len(rows) < limit:
                rows += connection.execute(failing.limit(limit - len(rows)))
        return [DueFollow(*row) for row in rows]

    def save_enrichment(
        self, item_id: int, enrichment: Enrichment, now: datetime, topics_of: TopicsOf
    ) -> Touched:
        """Store what the API gave; the feeds it changed (none when it changed nothing)."""
        with self.engine.begin() as connection:
            stored = connection.scalar(
                select(follows.c.content_hash).where(follows.c.item_id == item_id)
            )
            done = {
                "status": "ok",
                "attempts": 0,
                "last_error": None,
                "next_try": None,
                "followed_at": now,
            }
            if stored == enrichment.content_hash:
                connection.execute(
                    update(follows).where(follows.c.item_id == item_id).values(**done)
                )
                return Touched()
            connection.execute(
                update(follows)
                .where(follows.c.item_id == item_id)
                .values(
                    **done,
                    title=enrichment.title or None,
                    body_html=enrichment.body_html or None,
                    published=enrichment.published,
                    image=enrichment.image,
                    content_hash=enrichment.content_hash,
                )
            )
            touched = self._apply_enrichment(connection, item_id, enrichment, now, topics_of)
            self._bump_version(connection)
        return touched

    def _apply_enrichment(
        self,
        connection: Connection,
        item_id: int,
        enrichment: Enrichment,
        now: datetime,
        topics_of: TopicsOf,
    ) -> Touched:
        """The item's time, order and topics as the API's text and time say."""
        columns = (
            items.c.published,
            items.c.position,
            items.c.sections,
            items.c.title,
            items.c.body,
        )
        item = connection.execute(
            select(*columns, items.c.agency, items.c.lang).where(items.c.id == item_id)
        ).one()
        published = enrichment.published or item.published
        key = sort_key(published, item.position)
        connection.execute(
            update(items)
            .where(items.c.id == item_id)
            .values(published=published, updated=now, sort_key=key)
        )
        row = {
            "row_id": item_id,
            "title": enrichment.title or item.title,
            "body": enrichment.body_text or item.body,
            "sections": item.sections,
            "sort_key": key,
            "lang": item.lang,
        }
        topics = self._write_topics(connection, [row], topics_of)
        return Touched({item.agency} if item.agency else set(), topics)

    def save_follow_failure(
        self, item_id: int, status: str, error: str, next_try: datetime | None
    ) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(follows)
                .where(follows.c.item_id == item_id)
                .values(
                    status=status,
                    attempts=follows.c.attempts + 1,
                    last_error=error[:500],
                    next_try=next_try,
                )
            )

    def follow_stats(self) -> FollowStats:
        counts = select(follows.c.status, func.count()).group_by(follows.c.status)
        oldest = (
            select(follows.c.next_try)
            .where(follows.c.status == "pending", follows.c.next_try.is_not(None))
            .order_by(follows.c.next_try)
            .limit(1)
        )
        with self.engine.connect() as connection:
            by_status = dict(connection.execute(counts).all())
            since = connection.scalar(oldest)
        return FollowStats(
            *(by_status.get(status, 0) for status in ("pending", "ok", "failed", "gone")), since
        )

    def follow_state(self, item_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(follows).where(follows.c.item_id == item_id)).first()
        return row._asdict() if row else None

    def get_state(self, name: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.scalar(select(state.c.value).where(state.c.name == name))

    def record_run(self, run: str, ok: bool, seconds: float, at: datetime) -> None:
        """Count a scheduled run (for /metrics, whichever process serves it)."""
        name = f"runs:{run}"
        with self.engine.begin() as connection:
            recorded = json.loads(
                connection.scalar(select(state.c.value).where(state.c.name == name)) or "{}"
            )
            outcome = "ok" if ok else "failed"
            recorded[outcome] = recorded.get(outcome, 0) + 1
            recorded.update(last_seconds=round(seconds, 3), last_at=at.timestamp())
            self._set_state(connection, name, json.dumps(recorded, sort_keys=True))

    def put_state(self, name: str, value: str) -> None:
        with self.engine.begin() as connection:
            self._set_state(connection, name, value)

    # -- rendered pages ----------------------------------------------------------------------

    def get_rendered(self, key: str, version: int) -> dict[str, Any] | None:
        query = select(rendered).where(rendered.c.key == key, rendered.c.version == version)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return row._asdict() if row else None

    def put_rendered(self, key: str, version: int, values: dict[str, Any]) -> None:
        """Keep a rendered page; a newer version replaces an older one, never the reverse."""
        insert_ = _upsert(self.engine.dialect.name)(rendered).values(
            key=key, version=version, **values
        )
        statement = insert_.on_conflict_do_update(
            index_elements=[rendered.c.key],
            set_={"version": version, **values},
            where=rendered.c.version < insert_.excluded.version,
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    def keep_pages_of(self, fingerprint: str) -> None:
        """Delete the shared pages (and Summary) made with another fingerprint of catalog,
        topic names, templates and code (feeds.fingerprint): their keys include it, so they
        would never be read again. Called when a web process starts."""
        with self.engine.begin() as connection:
            stored = connection.scalar(
                select(state.c.value).where(state.c.name == PAGES_FINGERPRINT)
            )
            if stored == fingerprint:
                return
            connection.execute(delete(rendered))
            # Workers start at once: an upsert, so that the second one does not fail.
            insert_ = _upsert(self.engine.dialect.name)(state).values(
                name=PAGES_FINGERPRINT, value=fingerprint
            )
            connection.execute(
                insert_.on_conflict_do_update(
                    index_elements=[state.c.name], set_={"value": fingerprint}
                )
            )

    def rendered_keys(self) -> list[tuple[str, int, int]]:
        """(key, version, bytes) of every shared page, for inspection and tests."""
        size = func.length(rendered.c.body) + func.length(rendered.c.gzipped)
        query = select(rendered.c.key, rendered.c.version, size).order_by(rendered.c.key)
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query)]

    # -- one scheduler -----------------------------------------------------------------------

    def leader_lock(self) -> "LeaderLock":
        """The lock that makes exactly one scheduler run against this store."""
        if self.engine.dialect.name == "postgresql":
            return PostgresLeaderLock(self.engine)
        return FileLeaderLock(Path(f"{self.engine.url.database or 'memory'}.scheduler.lock"))


class LeaderLock:
    def try_acquire(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class PostgresLeaderLock(LeaderLock):
    """A session-level advisory lock, held by one dedicated connection: it is released by
    PostgreSQL itself when the holder's connection ends, even after a SIGKILL."""

    KEY = 0x6665656473  # "feeds"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self.connection is None:
            self.connection = self.engine.connect()
            # Out of the pool: closing it must end the session (and so the lock), not
            # park it, still locked, for the next borrower.
            self.connection.detach()
        try:
            query = text("SELECT pg_try_advisory_lock(:key)")
            got = bool(self.connection.scalar(query, {"key": self.KEY}))
            self.connection.commit()
        except SQLAlchemyError:
            self.release()  # the connection broke: whatever it held is gone
            return False
        return got

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock_all()"))
                self.connection.commit()
            except SQLAlchemyError:
                pass  # a broken session holds no lock any more
            self.connection.close()
            self.connection = None


class FileLeaderLock(LeaderLock):
    """An exclusive flock next to the SQLite file: the kernel drops it when the holder dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: Any = None

    def try_acquire(self) -> bool:
        if self.handle is None:
            self.handle = open(self.path, "a")  # noqa: SIM115 - held open while leading
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _upsert(dialect: str):  # type: ignore[no-untyped-def]
    """The dialect's INSERT with ON CONFLICT (SQLite and PostgreSQL both have it)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


# A parent agency's subtree is merged from each agency's own page when it has at most this
# many agencies (SQLite allows 500 terms in one UNION); a larger subtree filters the order
# index instead, which is as quick when the subtree holds a fair share of the store.
MERGED_AGENCIES = 200


def _page_query(
    rows: int,
    agencies: frozenset[str] | None,
    topic: str | None,
    lang: str | None,
    after: Cursor | None,
    before: Cursor | None,
) -> Select:
    """The query of a feed page: each filter matched on the table whose index starts with it,
    so a page reads one index range (ix_item_topics_lang, ix_items_agency_lang, ...) or, for
    a parent agency, one range per agency, however big the store is."""
    if topic is not None:
        query = select(items).join(item_topics, item_topics.c.item_id == items.c.id)
        query = query.where(item_topics.c.topic == topic)
        if lang is not None:
            query = query.where(item_topics.c.lang == lang)
        return _in_order(query, item_topics.c.sort_key, item_topics.c.item_id, after, before, rows)
    if agencies is not None and 1 < len(agencies) <= MERGED_AGENCIES:
        # Filtering the order index by a list of agencies read the whole store when the
        # subtree was sparse, and SQLite preferred a sort of the whole subtree to that.
        pages = [
            select(_own_page(agency, lang, after, before, rows).subquery())
            for agency in sorted(agencies)
        ]
        merged = union_all(*pages).subquery()
        query = select(items).where(items.c.id.in_(select(merged.c.id)))
        return _in_order(query, items.c.sort_key, items.c.id, after, before, rows)
    query = select(items)
    if agencies is not None:
        query = query.where(items.c.agency.in_(sorted(agencies)))
    if lang is not None:
        query = query.where(items.c.lang == lang)
    return _in_order(query, items.c.sort_key, items.c.id, after, before, rows)


def _own_page(
    agency: str, lang: str | None, after: Cursor | None, before: Cursor | None, rows: int
) -> Select:
    query = select(items.c.id).where(items.c.agency == agency)
    if lang is not None:
        query = query.where(items.c.lang == lang)
    return _in_order(query, items.c.sort_key, items.c.id, after, before, rows)


def _in_order(
    query: Select,
    key: ColumnElement[Any],
    item_id: ColumnElement[Any],
    after: Cursor | None,
    before: Cursor | None,
    rows: int,
) -> Select:
    """Newest first after `after` (exclusive), or oldest first from just after `before`."""
    if before is not None:
        query = query.where(tuple_(key, item_id) > tuple_(*before)).order_by(key, item_id)
    else:
        if after is not None:
            query = query.where(tuple_(key, item_id) < tuple_(*after))
        query = query.order_by(key.desc(), item_id.desc())
    return query.limit(rows)
