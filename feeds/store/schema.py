"""The store's tables (SQLAlchemy Core). Alembic migrations in `feeds/store/migrations` create
them; this module is what the code and the migrations' autogenerate checks compare to."""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, stored as naive UTC on every backend
    (SQLite has no time zones; PostgreSQL's timestamptz would be read in the session zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    # The conversions remember their last answers (issue 31): an ingest's items share few
    # instants (a dump's items of one day are published at its midnight, `updated` is
    # `published`, every follow is due `now`) and each conversion, ours then the dialect's
    # (a string on SQLite), cost 10-15 µs: 60,000 of them in a 20,000-item ingest, and as
    # many when a feed page is read. Equal aware datetimes are the same instant, which
    # converts to the same naive UTC; a naive one is never equal to an aware one, and its
    # ValueError is not remembered. Datetimes and strings are immutable: sharing is safe.
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        return remembering(super().bind_processor(dialect))

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        return remembering(super().result_processor(dialect, coltype))


MEMO_SIZE = 4096  # values remembered per conversion (per type and dialect): about 1 MB


def remembering(process: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """A column type's processor remembering its last MEMO_SIZE answers (None: none)."""
    return None if process is None else lru_cache(maxsize=MEMO_SIZE)(process)


items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(512), nullable=False, unique=True),  # the version: release + language
    Column("uid", String(36), nullable=False, unique=True),  # the Atom id's UUID
    Column("kind", String(64)),
    Column("govkz_id", String(32)),
    Column("agency", String(128)),
    Column("link", Text),
    Column("link_lang", String(8)),
    Column("other_sources", Text, nullable=False, default=""),
    Column("sections", Text, nullable=False, default=""),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("published", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime, nullable=False),
    Column("lang", String(8), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    # Feed order in one number: newest first, then the dump's order within a day.
    Column("sort_key", BigInteger, nullable=False),
    Column("first_source", Text, nullable=False),
    Column("first_line", Integer, nullable=False),
    Column("release", String(512), nullable=False),  # what the versions of a release share
    # The release's version in feeds without `?lang=` (the preferred language it has).
    Column("shown", Boolean(create_constraint=False), nullable=False, default=True),
    # Where the version came from: words among api, dump and rss, sorted (issue 27).
    Column("origins", Text, nullable=False, default="dump"),
)
Index("ix_items_order", items.c.shown, items.c.sort_key, items.c.id)
Index("ix_items_agency", items.c.agency, items.c.shown, items.c.sort_key, items.c.id)
Index("ix_items_release", items.c.release)
Index("ix_items_lang", items.c.lang, items.c.sort_key, items.c.id)
Index("ix_items_agency_lang", items.c.agency, items.c.lang, items.c.sort_key, items.c.id)

# Topics of each item (sections and subject topics), with the item's order, language and
# `shown` copied in so a topic feed, with or without `?lang=`, is one index range scan.
item_topics = Table(
    "item_topics",
    metadata,
    Column("topic", String(128), primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("sort_key", BigInteger, nullable=False),
    Column("lang", String(8), nullable=False),
    Column("shown", Boolean(create_constraint=False), nullable=False, default=True),
)
Index(
    "ix_item_topics_order",
    item_topics.c.topic,
    item_topics.c.shown,
    item_topics.c.sort_key,
    item_topics.c.item_id,
)
Index(
    "ix_item_topics_lang",
    item_topics.c.topic,
    item_topics.c.lang,
    item_topics.c.sort_key,
    item_topics.c.item_id,
)
Index("ix_item_topics_item", item_topics.c.item_id)

sources = Table(
    "sources",
    metadata,
    Column("name", String(1024), primary_key=True),
    Column("content_sha256", String(64)),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_ingest", UtcDateTime),
    Column("items_found", Integer, nullable=False, default=0),
    Column("problems", Integer, nullable=False, default=0),
)

state = Table(
    "state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# What following an item's gov.kz link brought (SPEC section 8), kept apart from the dump's
# text so a re-ingest compares dump with dump; and the back-off state of that item.
follows = Table(
    "follows",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("status", String(16), nullable=False),  # pending, ok, failed, gone
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("next_try", UtcDateTime),  # None: nothing more to do
    Column("followed_at", UtcDateTime),
    Column("title", Text),
    Column("body_html", Text),
    Column("published", UtcDateTime),
    Column("image", Text),
    Column("content_hash", String(64)),
)
Index("ix_follows_due", follows.c.next_try)

# Rendered feed pages, shared by every web worker: a page is rendered once per content
# version in the whole deployment, and a cold worker starts warm.
rendered = Table(
    "rendered",
    metadata,
    Column("key", String(64), primary_key=True),  # sha256 of feed, format, query and base URL
    Column("version", Integer, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("last_modified", UtcDateTime, nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("gzipped", LargeBinary, nullable=False),
)

# The full-text index (feeds.store.search) is not declared here: it is an FTS5 virtual table
# (with its shadow tables) on SQLite and a tsvector table on PostgreSQL, made by its own DDL in
# migration 0006. Comparisons of this metadata with a database leave it out.
SEARCH_INDEX = "search_index"


def declared_here(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's `include_name`: everything but the search index's tables and index."""
    return not (name or "").startswith((SEARCH_INDEX, f"ix_{SEARCH_INDEX}"))


# What each source's last ingests found, segment by segment (issue 18): an item's raw bytes'
# fingerprint, the key it parsed to and its problems (line offsets from its title line), so
# that a re-ingest parses only the segments it has not seen and reports the others' problems
# at their new lines. A row means "the stored item is what these bytes give": writing an item
# deletes every row of its key (any source's), then keeps the row of the segment written.
# Kept apart from `items`: a segment is one source's, an item is every source's.
source_items = Table(
    "source_items",
    metadata,
    Column("source", String(1024), primary_key=True),
    Column("fingerprint", String(32), primary_key=True),  # dumpsplit.fingerprint, hex
    Column("key", String(512)),  # None: the segment holds no item (a bad date)
    Column("problems", Text, nullable=False, default=""),  # JSON [[offset, message], ...]
    # Looked up by primary key only: SQLite then keeps the rows in the key's B-tree itself,
    # one descent a lookup instead of two (a grown dump's ingest is mostly these lookups).
    sqlite_with_rowid=False,
)
Index("ix_source_items_key", source_items.c.key)
