"""The store: the only package that speaks SQL (SQLAlchemy Core, SQLite or PostgreSQL).

One `Store` made of one mixin per concern, all on one engine (`engine.StoreBase`):

- `items`: the ingest of dump sources, topic rows, reclassification;
- `versions`: which version of a release feeds without `?lang=` show;
- `source_items`: a source's ingest segment by segment, and what each segment gave;
- `feed_rows`: feed pages (keyset paging and its query builder) and items by uid;
- `aggregates`: counts per agency, topic, section and language, and the `Summary`;
- `follows`: which items to follow, what following them brought, their back-off;
- `rss`: the portal's official RSS: its new releases written, its times taken;
- `state`: named values, run counts, source states and the content version;
- `rendered`: the rendered pages every process shares;
- `locks`: the scheduler's leader lock.

The tables are `schema`'s; `migrations/` holds the Alembic revisions that make them.

What the store returns are the typed records of `models`; what it raises are `StoreError`
and `StoreUnavailable` (feeds.errors), never SQLAlchemy's exceptions.
"""

from feeds.errors import StoreError, StoreUnavailable
from feeds.store.aggregates import AggregatesMixin, summary_key
from feeds.store.feed_rows import MERGED_AGENCIES, FeedRowsMixin
from feeds.store.follows import PAUSE_REASON, PAUSED_UNTIL, FollowsMixin
from feeds.store.items import ItemsMixin, TopicsOf, sections_only
from feeds.store.locks import FileLeaderLock, LeaderLock, LocksMixin, PostgresLeaderLock
from feeds.store.models import (
    Cursor,
    DueFollow,
    FeedCount,
    FeedRows,
    FollowPause,
    FollowStats,
    IngestCounts,
    ItemRow,
    SourceState,
    Summary,
    Touched,
    Version,
)
from feeds.store.rendered import RenderedMixin
from feeds.store.rss import RssMixin
from feeds.store.source_items import KnownSegment, SeenSegment, SourceIngest, SourceItemsMixin
from feeds.store.state import CONTENT_VERSION, StateMixin
from feeds.store.versions import VersionsMixin


class Store(
    ItemsMixin,
    VersionsMixin,
    SourceItemsMixin,
    FeedRowsMixin,
    AggregatesMixin,
    FollowsMixin,
    RssMixin,
    StateMixin,
    RenderedMixin,
    LocksMixin,
):
    """Every call site's `store.x(...)`: the mixins share one engine and its connections."""


__all__ = [
    "CONTENT_VERSION",
    "MERGED_AGENCIES",
    "PAUSED_UNTIL",
    "PAUSE_REASON",
    "Cursor",
    "DueFollow",
    "FeedCount",
    "FeedRows",
    "FileLeaderLock",
    "FollowPause",
    "FollowStats",
    "IngestCounts",
    "ItemRow",
    "KnownSegment",
    "LeaderLock",
    "PostgresLeaderLock",
    "SeenSegment",
    "SourceIngest",
    "SourceState",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Summary",
    "TopicsOf",
    "Touched",
    "Version",
    "sections_only",
    "summary_key",
]
