"""Writing items: the ingest of a dump source, the topic rows of items, and their
reclassification when the topic rules change.

Identity and update rules (SPEC section 3): one row per version (release + language of
its text, `items.key`); a known key with the same content changes nothing (not even a
timestamp), with other content it is updated in place and its `updated` moves while
`published` stays. Each ingest of a source is one
transaction, so a crash leaves the store as it was before that source.
"""

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, delete, func, select, update

from feeds.dumps.records import ItemRecord, item_uid
from feeds.portal.enrich import FOLLOWED_KINDS
from feeds.store.bulk import insert_rows, one_of
from feeds.store.engine import StoreBase
from feeds.store.models import IngestCounts
from feeds.store.schema import follows, item_topics, items
from feeds.store.search import TermsOf, index_rows
from feeds.store.state import bump_version, read_state, set_state
from feeds.store.versions import choose_for_new

BATCH = 500  # keys looked up per query: well under SQLite's bound-parameter limit
TOPICS_FINGERPRINT = "topics_fingerprint"
SECTIONS = "sections"

# (title, body, sections) -> topic slugs; the ingest passes the configured classifier.
TopicsOf = Callable[[str, str, list[str]], frozenset[str]]
T = TypeVar("T")


def sections_only(title: str, body: str, sections: list[str]) -> frozenset[str]:
    return frozenset(filter(None, sections))


def _batched(records: Sequence[T], size: int) -> Iterator[list[T]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _merge_sections(stored: str, section: str | None) -> str:
    names = set(filter(None, stored.split("\n")))
    if section:
        names.add(section)
    return "\n".join(sorted(names))


def merge_origins(stored: str, origin: str) -> str:
    """`items.origins` with one more origin (api, dump or rss): each once, sorted."""
    return " ".join(sorted({*stored.split(), origin}))


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


def _new_row(record: ItemRecord, source: str, origin: str = "dump") -> dict[str, Any]:
    return {
        **_content_values(record),
        "origins": origin,
        "key": record.key,
        "uid": item_uid(record.key),
        "release": record.release,
        "shown": True,  # until choose_for_new compares it with the release's other versions
        "sections": _merge_sections("", record.section),
        "published": record.published,
        "updated": record.published,
        "position": record.position,
        "sort_key": record.sort_key,
        "first_source": source,
        "first_line": record.line,
    }


def _ingest_batch(
    connection: Connection,
    source: str,
    chunk: list[ItemRecord],
    now: datetime,
    counts: IngestCounts,
    topics_of: TopicsOf,
    preference: Sequence[str],
    terms_of: TermsOf,
    origin: str = "dump",
) -> None:
    query = select(
        items.c.id,
        items.c.key,
        items.c.content_hash,
        items.c.sections,
        items.c.sort_key,
        items.c.shown,
        items.c.origins,
    )
    keys = [r.key for r in chunk]
    found = connection.execute(query.where(one_of(connection, items.c.key, keys)))
    existing = {row.key: row for row in found}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for record in chunk:
        row = existing.get(record.key)
        if row is None:
            inserts.append(_new_row(record, source, origin))
            continue
        sections = _merge_sections(row.sections, record.section)
        if row.content_hash == record.content_hash and sections == row.sections:
            counts.unchanged += 1
            continue
        values = {
            **_content_values(record),
            "sections": sections,
            "updated": now,
            "origins": merge_origins(row.origins, origin),
        }
        updates.append({**values, "row_id": row.id, "sort_key": row.sort_key, "shown": row.shown})
    if inserts:
        counts.touched.add(choose_for_new(connection, inserts, preference))
        _insert_items(connection, inserts, now)
    if updates:
        connection.execute(update(items).where(items.c.id == bindparam("row_id")), updates)
    changed = [*inserts, *updates]
    none_above = _last_with_topics(connection) if inserts else None
    counts.touched.topics |= write_topics(connection, changed, topics_of, none_above=none_above)
    index_rows(connection, inserts, terms_of, new=True)
    index_rows(connection, updates, terms_of)
    counts.touched.agencies |= {row["agency"] for row in changed if row["agency"]}
    counts.new += len(inserts)
    counts.updated += len(updates)


def _insert_items(connection: Connection, inserts: list[dict[str, Any]], now: datetime) -> None:
    """Insert new items (their ids go into `row_id`) and make the followable ones due."""
    # A plain executemany, then the ids by key: RETURNING in parameter order makes
    # SQLite insert one row per statement (measured: the largest cost of an ingest).
    insert_rows(connection, items, inserts)
    keys = [v["key"] for v in inserts]
    ids = dict(
        connection.execute(
            select(items.c.key, items.c.id).where(one_of(connection, items.c.key, keys))
        ).all()
    )
    for values in inserts:
        values["row_id"] = ids[values["key"]]
    due = [
        {"item_id": v["row_id"], "status": "pending", "attempts": 0, "next_try": now}
        for v in inserts
        if v["kind"] in FOLLOWED_KINDS
    ]
    if due:
        insert_rows(connection, follows, due)


def _last_with_topics(connection: Connection) -> int:
    """The highest item id with topic rows (0: none), one step down an index."""
    return connection.scalar(select(func.max(item_topics.c.item_id))) or 0


def write_topics(
    connection: Connection,
    rows: list[dict[str, Any]],
    topics_of: TopicsOf,
    *,
    none_above: int | None = None,
) -> set[str]:
    """Replace the topic rows of these items by what `topics_of` says now; the topics
    they had or have. `none_above`: no item with a higher id has topic rows (read just
    before), so for those (the items an ingest just inserted) nothing is read or deleted:
    there is nothing to compare with. Ids only grow, but SQLite can give a new item the id
    of one removed by hand, whose rows (foreign keys are not enforced there) lie at or
    below the highest: those items take the path of every other."""
    if not rows:
        return set()
    ids = [row["row_id"] for row in rows]
    if none_above is not None:
        ids = [row_id for row_id in ids if row_id <= none_above]
    touched: set[str] = set()
    if ids:
        stored = one_of(connection, item_topics.c.item_id, ids)
        touched = set(connection.scalars(select(item_topics.c.topic).where(stored).distinct()))
        connection.execute(delete(item_topics).where(stored))
    topic_rows = [
        {
            "topic": topic,
            "item_id": row["row_id"],
            "sort_key": row["sort_key"],
            "lang": row["lang"],
            "shown": row["shown"],
        }
        for row in rows
        for topic in sorted(topics_of(row["title"], row["body"], row["sections"].split("\n")))
    ]
    if topic_rows:
        insert_rows(connection, item_topics, topic_rows)
    return touched | {row["topic"] for row in topic_rows}


def _note_sections(connection: Connection, seen: set[str]) -> None:
    """Keep the list of section names, so that listing them never scans the items."""
    known = set(json.loads(read_state(connection, SECTIONS) or "[]"))
    if not seen <= known:
        set_state(connection, SECTIONS, json.dumps(sorted(known | seen), ensure_ascii=False))


class ItemsMixin(StoreBase):
    # The row a new item is inserted as (tests build old schemas' rows with it).
    _new_row = staticmethod(_new_row)

    def reclassify(self, topics_of: TopicsOf, fingerprint: str) -> int:
        """Recompute every item's topics when the rules changed; the number of items changed."""
        changed = 0
        with self._begin() as connection:
            if read_state(connection, TOPICS_FINGERPRINT) == fingerprint:
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
                items.c.shown,
            )
            stale = [
                {**row._asdict(), "row_id": row.id}
                for row in connection.execute(query)
                if topics_of(row.title, row.body, row.sections.split("\n"))
                != current.get(row.id, set())
            ]
            for chunk in _batched(stale, BATCH):
                write_topics(connection, chunk, topics_of)
            changed = len(stale)
            set_state(connection, TOPICS_FINGERPRINT, fingerprint)
            if changed:
                bump_version(connection)
        return changed

    def item_rows(self) -> list[dict[str, Any]]:
        """Every item row, in id order (for inspection and tests)."""
        with self._connect() as connection:
            return [row._asdict() for row in connection.execute(select(items).order_by(items.c.id))]
