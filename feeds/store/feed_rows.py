"""Reading feeds: one page of a feed, read with keyset paging (a cursor, never an offset),
and one item by its uid; beside them the query builder that makes every page one index
range.
"""

import math
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, true, tuple_, union_all
from sqlalchemy.sql import ColumnElement, Select

from feeds.dumps.records import POSITIONS
from feeds.store.engine import StoreBase
from feeds.store.models import Cursor, FeedRows, ItemRow, Version
from feeds.store.schema import follows, item_topics, items
from feeds.store.search import search_condition
from feeds.text.links import LANGUAGE_ORDER
from feeds.text.searchquery import SearchQuery

_ENRICHMENT_COLUMNS = (
    follows.c.title.label("api_title"),
    follows.c.body_html.label("api_body_html"),
    follows.c.image.label("api_image"),
)
_NO_ENRICHMENT = (None,) * len(_ENRICHMENT_COLUMNS)

# Records are built from rows by position, a third of the time keywords take (measured: 4
# µs a row against 15, at 500 rows a page): `ItemRow`'s fields are these columns in order.
_ROW_COLUMNS = [
    *items.c.keys(),
    *(column.name for column in _ENRICHMENT_COLUMNS),
    "topics",
    "versions",
]
if [f.name for f in fields(ItemRow)] != _ROW_COLUMNS:
    raise TypeError(f"ItemRow's fields are not the columns {_ROW_COLUMNS}")

# A parent agency's subtree is merged from each agency's own page when it has at most this
# many agencies (SQLite allows 500 terms in one UNION); a larger subtree filters the order
# index instead, which is as quick when the subtree holds a fair share of the store.
MERGED_AGENCIES = 200

Window = tuple[datetime | None, datetime | None]  # [from, before) of publication


@dataclass(frozen=True)
class Filters:
    """What narrows a page besides its feed, language and search: several topics (any of
    them) and a range of sort keys (publication moments, feeds.dumps.records.sort_key)."""

    topics: frozenset[str] | None = None
    keys: tuple[int | None, int | None] = (None, None)  # [low, high) of sort_key


def _key_window(published: Window) -> tuple[int | None, int | None]:
    """The sort keys of the items published in [from, before): a key is the publication's
    second times POSITIONS plus less than POSITIONS, so the range is one index range of every
    index a page reads (each ends with sort_key), on both stores, with no date arithmetic."""
    start, end = published
    return (
        None if start is None else math.ceil(start.timestamp()) * POSITIONS,
        None if end is None else math.ceil(end.timestamp()) * POSITIONS,
    )


class FeedRowsMixin(StoreBase):
    def feed_rows(
        self,
        *,
        limit: int,
        agencies: frozenset[str] | None = None,
        topic: str | None = None,
        lang: str | None = None,
        after: Cursor | None = None,
        before: Cursor | None = None,
        search: SearchQuery | None = None,
        topics: frozenset[str] | None = None,
        published: Window = (None, None),
    ) -> FeedRows:
        """One page of a feed, newest first, with a look-ahead row to tell if more exist.

        `after` gives the page of items older than that cursor, `before` the page of items
        newer than it; both are exclusive, so pages never overlap however items arrive.
        `topics`: items in any of them (`topic`: in that one); `published`: items published
        from its first moment (inclusive) to its second (exclusive), either may be None."""
        if topics is not None and len(topics) == 1 and topic is None:
            (topic,), topics = topics, None  # one topic: its own index range
        filters = Filters(topics, _key_window(published))
        query = _page_query(limit + 1, agencies, topic, lang, after, before, search, filters)
        with self._connect() as connection:
            rows = list(connection.execute(query))
            more = len(rows) > limit
            rows = rows[:limit]
            if before is not None:
                rows.reverse()
            ids = [row.id for row in rows]
            topics = _topics_of(connection, ids)
            # Joined only to the page's rows: joining before ORDER BY/LIMIT made SQLite sort
            # a parent agency's whole subtree.
            enriched = _enrichment_of(connection, ids)
            versions = _versions_of(connection, rows)
        page = [
            ItemRow(
                *row,
                *enriched.get(row.id, _NO_ENRICHMENT),
                topics.get(row.id, ()),
                versions.get(row.id, ()),
            )
            for row in rows
        ]
        return FeedRows(page, more)

    def item_by_uid(self, uid: str) -> ItemRow | None:
        query = _with_enrichment(select(items)).where(items.c.uid == uid)
        with self._connect() as connection:
            row = connection.execute(query).first()
            if row is None:
                return None
            topics = _topics_of(connection, [row.id]).get(row.id, ())
            versions = _versions_of(connection, [row]).get(row.id, ())
        return ItemRow(*row, topics, versions)


def _with_enrichment(query: Select) -> Select:
    """Add what following the item's link brought, when it did (columns api_*)."""
    return query.outerjoin(follows, follows.c.item_id == items.c.id).add_columns(
        *_ENRICHMENT_COLUMNS
    )


def _topics_of(connection: Connection, ids: list[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    if ids:
        query = select(item_topics.c.item_id, item_topics.c.topic).where(
            item_topics.c.item_id.in_(ids)
        )
        for item_id, topic in connection.execute(query.order_by(item_topics.c.topic)):
            found.setdefault(item_id, []).append(topic)
    return {item_id: tuple(topics) for item_id, topics in found.items()}


def _versions_of(connection: Connection, rows: list[Any]) -> dict[int, tuple[Version, ...]]:
    """The other versions of each row's release, in LANGUAGE_ORDER."""
    releases = sorted({row.release for row in rows})
    if not releases:
        return {}
    query = (
        select(
            items.c.id, items.c.release, items.c.lang, items.c.uid, items.c.link, follows.c.image
        )
        .outerjoin(follows, follows.c.item_id == items.c.id)
        .where(items.c.release.in_(releases))
    )
    by_release: dict[str, list[tuple[int, Version]]] = {}
    for row_id, release, lang, uid, link, image in connection.execute(query):
        by_release.setdefault(release, []).append((row_id, Version(lang, uid, link, image)))
    order = {lang: index for index, lang in enumerate(LANGUAGE_ORDER)}
    return {
        row.id: tuple(
            sorted(
                (version for row_id, version in by_release[row.release] if row_id != row.id),
                key=lambda version: (order.get(version.lang, len(order)), version.lang),
            )
        )
        for row in rows
    }


def _enrichment_of(connection: Connection, ids: list[int]) -> dict[int, tuple[Any, ...]]:
    if not ids:
        return {}
    query = select(follows.c.item_id, *_ENRICHMENT_COLUMNS).where(
        follows.c.item_id.in_(ids), follows.c.content_hash.is_not(None)
    )
    return {row[0]: tuple(row[1:]) for row in connection.execute(query)}


def _page_query(
    rows: int,
    agencies: frozenset[str] | None,
    topic: str | None,
    lang: str | None,
    after: Cursor | None,
    before: Cursor | None,
    search: SearchQuery | None = None,
    filters: Filters = Filters(),
) -> Select:
    """The query of a feed page: each filter matched on the table whose index starts with it,
    so a page reads one index range (ix_item_topics_lang, ix_items_agency_lang, ...) or, for
    a parent agency, one range per agency, however big the store is. A search (`?q=`) is one
    more condition on the item's id (feeds.store.search)."""
    if topic is not None:
        query = select(items).join(item_topics, item_topics.c.item_id == items.c.id)
        query = query.where(item_topics.c.topic == topic)
        if lang is not None:
            query = query.where(item_topics.c.lang == lang)
        else:  # each release once: its shown version
            query = query.where(item_topics.c.shown == true())
        if agencies is not None:  # /search.atom?topic=...&agency=...
            query = query.where(items.c.agency.in_(sorted(agencies)))
        query = _matching(query, search, item_topics.c.item_id)
        query = _in_window(query, item_topics.c.sort_key, filters.keys)
        return _in_order(query, item_topics.c.sort_key, item_topics.c.item_id, after, before, rows)
    if agencies is not None and 1 < len(agencies) <= MERGED_AGENCIES:
        # Filtering the order index by a list of agencies read the whole store when the
        # subtree was sparse, and SQLite preferred a sort of the whole subtree to that.
        # The pages carry whole rows: joining their ids back to `items` let PostgreSQL
        # choose a hash join over a scan of the whole table (measured: 8,000 rows read).
        pages = [
            select(_own_page(agency, lang, after, before, rows, search, filters).subquery())
            for agency in sorted(agencies)
        ]
        merged = union_all(*pages).subquery()
        query = select(*merged.c)
        return _in_order(query, merged.c.sort_key, merged.c.id, after, before, rows)
    query = select(items)
    if agencies is not None:
        query = query.where(items.c.agency.in_(sorted(agencies)))
    query = _filtered(_matching(_in_language(query, lang), search), filters)
    return _in_order(query, items.c.sort_key, items.c.id, after, before, rows)


def _filtered(query: Select, filters: Filters) -> Select:
    """A page of `items` narrowed to several topics and to a range of publication."""
    if filters.topics is not None:
        in_topics = select(item_topics.c.item_id).where(
            item_topics.c.topic.in_(sorted(filters.topics))
        )
        query = query.where(items.c.id.in_(in_topics))  # an item in two of them: once
    return _in_window(query, items.c.sort_key, filters.keys)


def _in_window(
    query: Select, key: ColumnElement[Any], keys: tuple[int | None, int | None]
) -> Select:
    low, high = keys
    if low is not None:
        query = query.where(key >= low)
    if high is not None:
        query = query.where(key < high)
    return query


def _in_language(query: Select, lang: str | None) -> Select:
    """A language's versions, or each release once (its shown version) without `?lang=`."""
    if lang is not None:
        return query.where(items.c.lang == lang)
    return query.where(items.c.shown == true())


def _matching(
    query: Select, search: SearchQuery | None, item_id: ColumnElement[Any] = items.c.id
) -> Select:
    """The items matching a search (`?q=`), when there is one."""
    return query if search is None else query.where(search_condition(search, item_id))


def _own_page(
    agency: str,
    lang: str | None,
    after: Cursor | None,
    before: Cursor | None,
    rows: int,
    search: SearchQuery | None = None,
    filters: Filters = Filters(),
) -> Select:
    query = _in_language(select(items).where(items.c.agency == agency), lang)
    query = _filtered(_matching(query, search), filters)
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
