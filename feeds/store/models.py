"""The store's typed records: what its methods return and what its writes report.

Rows leave the store as these frozen dataclasses, never as SQLAlchemy rows or dicts, so
their fields are the interface between the store and its readers (feedservice, pages, web).
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

Cursor = tuple[int, int]  # (sort_key, item id) of an item a page starts after or before


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


@dataclass(frozen=True)
class Version:
    """Another language's version of an item's release: where its entry and page are."""

    lang: str
    uid: str
    link: str | None  # its gov.kz page, as its dump gave it
    image: str | None  # what following it brought


@dataclass(frozen=True)
class ItemRow:
    """A stored item with what following its gov.kz link brought (`api_*`, None when nothing
    did) and its topics: the rows of a feed page and of an item's own page. The fields up to
    `first_line` are the `items` table's columns, in order (feed_rows.py checks)."""

    id: int
    key: str
    uid: str
    kind: str | None
    govkz_id: str | None
    agency: str | None
    link: str | None
    link_lang: str | None
    other_sources: str  # one URL a line
    sections: str  # one section name a line
    title: str
    body: str
    day: date
    published: datetime
    updated: datetime
    lang: str
    content_hash: str
    position: int
    sort_key: int
    first_source: str
    first_line: int
    release: str
    shown: bool
    origins: str  # words among api, dump and rss: where this version came from
    api_title: str | None
    api_body_html: str | None
    api_image: str | None
    topics: tuple[str, ...]  # slugs, sorted
    versions: tuple["Version", ...] = ()  # the release's other versions, in LANGUAGE_ORDER

    @property
    def cursor(self) -> Cursor:
        """Where a page starting after (or before) this item starts."""
        return (self.sort_key, self.id)


@dataclass(frozen=True)
class FeedRows:
    rows: list[ItemRow]
    more: bool  # items exist beyond this page in the direction it was read


@dataclass(frozen=True)
class SourceState:
    """What the last ingest of a dump source saw, to skip it when it did not change."""

    name: str
    content_sha256: str | None
    etag: str | None
    last_modified: str | None
    last_ingest: datetime | None
    items_found: int
    problems: int


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
class FollowPause:
    """gov.kz is not asked until `until`: the host failed, asked us to wait, or refuses us."""

    until: datetime
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"until": self.until.isoformat(), "reason": self.reason}


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
