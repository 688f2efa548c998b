"""Counts over the whole store: items per agency, topic, section and language, and the
`Summary` of them that the index, the OPML and the feed pages' headers show."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal, select, true

from feeds.store.items import SECTIONS
from feeds.store.models import FeedCount, Summary
from feeds.store.rendered import RenderedMixin
from feeds.store.schema import item_topics, items, sources
from feeds.store.state import StateMixin, read_state

SUMMARY_KEY = "summary"


def summary_key(fingerprint: str) -> str:
    """The Summary's key in the rendered pages' table (page keys are sha256 digests, so this
    cannot clash); with the pages' fingerprint, as their names shape it too."""
    return f"{SUMMARY_KEY}:{fingerprint}"[:64]


class AggregatesMixin(StateMixin, RenderedMixin):
    def shared_summary(self, fingerprint: str) -> Summary:
        """The Summary of the current content version as every process shares it: the copy
        some process (the scheduler, right after each change) left in the store, else
        computed here and left there for the others."""
        # Read before the scan: a summary labelled with an older version than its data is
        # merely computed again, one labelled newer would be served stale.
        version = self.content_version()
        key = summary_key(fingerprint)
        row = self.get_rendered(key, version)
        if row is not None:
            return Summary.from_json(row["body"])
        summary = self.summary()
        body = summary.to_json()
        digest = hashlib.sha256(body).hexdigest()[:32]
        kept = {"body": body, "gzipped": b"", "etag": digest, "media_type": "application/json"}
        self.put_rendered(key, version, {**kept, "last_modified": datetime.now(UTC)})
        return summary

    def summary(self) -> Summary:
        """Every aggregate at once: scans of the whole store (1.4 s at 200,000 items), so
        callers keep the result per content version (`FeedService.summary`)."""
        return Summary(
            self.count_items(), self.agency_counts(), self.topic_counts(), self.language_counts()
        )

    def count_items(self) -> int:
        with self._connect() as connection:
            query = select(func.count()).select_from(items).where(items.c.shown == true())
            return connection.scalar(query) or 0

    def agency_counts(self) -> list[FeedCount]:
        query = (
            select(items.c.agency, func.count(), func.max(items.c.updated))
            .where(items.c.agency.is_not(None), items.c.shown == true())
            .group_by(items.c.agency)
            .order_by(items.c.agency)
        )
        with self._connect() as connection:
            return [FeedCount(*row) for row in connection.execute(query)]

    def topic_counts(self) -> list[FeedCount]:
        query = (
            select(item_topics.c.topic, func.count(), func.max(items.c.updated))
            .join(items, items.c.id == item_topics.c.item_id)
            .where(item_topics.c.shown == true())
            .group_by(item_topics.c.topic)
            .order_by(item_topics.c.topic)
        )
        with self._connect() as connection:
            return [FeedCount(*row) for row in connection.execute(query)]

    def section_counts(self) -> list[FeedCount]:
        totals: dict[str, list[Any]] = {}
        with self._connect() as connection:
            query = select(items.c.sections, items.c.updated).where(items.c.shown == true())
            for names, updated in connection.execute(query):
                for name in filter(None, names.split("\n")):
                    entry = totals.setdefault(name, [0, updated])
                    entry[0] += 1
                    entry[1] = max(entry[1], updated)
        return [FeedCount(name, count, last) for name, (count, last) in sorted(totals.items())]

    def language_counts(self) -> dict[tuple[str, str], dict[str, int]]:
        """Versions per language of everything ("all", ""), each agency's own items
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
        with self._connect() as connection:
            for kind, query in queries.items():
                for slug, lang, count in connection.execute(query):
                    counts.setdefault((kind, slug), {})[lang] = count
        return counts

    def agency_slugs(self) -> set[str]:
        with self._connect() as connection:
            return set(
                connection.scalars(
                    select(items.c.agency).where(items.c.agency.is_not(None)).distinct()
                )
            )

    def section_names(self) -> list[str]:
        with self._connect() as connection:
            return json.loads(read_state(connection, SECTIONS) or "[]")

    def last_ingest(self) -> datetime | None:
        with self._connect() as connection:
            return connection.scalar(select(func.max(sources.c.last_ingest)))
