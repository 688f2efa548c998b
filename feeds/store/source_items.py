"""The ingest of one source segment by segment (issue 18), in one transaction.

`feeds.ingest` cuts the dump into segments and fingerprints them; this part of the store says
which fingerprints the source's earlier ingests saw (with the key and problems they gave),
writes the records of the segments that had to be parsed through `items._ingest_batch` (so
topic rows, follows and whatever else hooks into it see exactly the changed items),
remembers their fingerprints, and forgets those the dump no longer holds.

A kept row means that the stored item is what its segment gives, so a known segment costs
one primary-key lookup and no read of `items`: writing an item (from any source) deletes
every row of its key first, and only the segment just written is remembered again. The item
another source rewrote, or whose first copy in this dump is gone, is parsed again.
Everything is one transaction: a crash leaves the store as it was before the source, as
`ItemsMixin.ingest` does.
"""

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, func, select

from feeds.dumps.records import ItemRecord
from feeds.store.bulk import driver_rows, insert_rows, one_of
from feeds.store.engine import StoreBase
from feeds.store.items import BATCH, TopicsOf, _ingest_batch, _note_sections, sections_only
from feeds.store.models import IngestCounts
from feeds.store.schema import source_items
from feeds.store.search import TermsOf, tune_for_ingest
from feeds.store.state import bump_version, record_source
from feeds.text.links import LANGUAGE_ORDER
from feeds.text.search_terms import release_terms


# Named tuples, not dataclasses: one of each is made a segment (a grown dump's ingest makes a
# KnownSegment for every segment it holds), and a tuple is made in a third of the time.
class KnownSegment(NamedTuple):
    """A fingerprint an earlier ingest of the source saw, and what it gave; its item (if
    any) is stored as these bytes give it."""

    key: str | None
    problems: tuple[tuple[int, str], ...]


class SeenSegment(NamedTuple):
    """A segment this ingest wrote (or that holds no item), to remember."""

    fingerprint: str
    key: str | None
    problems: tuple[tuple[int, str], ...]


def _problems_json(problems: Sequence[tuple[int, str]]) -> str:
    return json.dumps(problems, ensure_ascii=False) if problems else ""


def _problems_of(text: str) -> tuple[tuple[int, str], ...]:
    return tuple((offset, message) for offset, message in json.loads(text)) if text else ()


@dataclass
class SourceIngest:
    """One source's ingest on one open transaction; see the module's docstring."""

    connection: Connection
    source: str
    now: datetime
    topics_of: TopicsOf
    languages: Sequence[str]  # which version feeds without ?lang= show, in preference
    terms_of: TermsOf  # the search terms of a record's own text
    origin: str = "dump"  # what new and changed items record as where they came from
    counts: IngestCounts = field(default_factory=IngestCounts)
    sections: set[str] = field(default_factory=set)

    def known(self, fingerprints: Sequence[str]) -> dict[str, KnownSegment]:
        """What earlier ingests of this source found for these fingerprints."""
        query = select(
            source_items.c.fingerprint, source_items.c.key, source_items.c.problems
        ).where(source_items.c.source == self.source)
        found: dict[str, KnownSegment] = {}
        for start in range(0, len(fingerprints), BATCH):
            chunk = fingerprints[start : start + BATCH]
            listed = one_of(self.connection, source_items.c.fingerprint, chunk)
            # The driver's own rows: these text columns convert nothing, and SQLAlchemy's
            # rows cost a tenth of a grown dump's re-read (issue 31: 0.77 -> 0.70 s of CPU).
            for fingerprint, key, problems in driver_rows(self.connection, query.where(listed)):
                found[fingerprint] = KnownSegment(key, _problems_of(problems))
        return found

    def unchanged(self, count: int) -> None:
        """Count items found unchanged without writing them."""
        self.counts.unchanged += count

    def write(self, records: Sequence[ItemRecord]) -> None:
        """Insert or update these records (in dump order, each key once) as an ingest does;
        every kept segment of their keys is forgotten (`remember` the ones just written)."""
        for start in range(0, len(records), BATCH):
            chunk = list(records[start : start + BATCH])
            connection, counts = self.connection, self.counts
            _ingest_batch(
                connection,
                self.source,
                chunk,
                self.now,
                counts,
                self.topics_of,
                self.languages,
                self.terms_of,
                self.origin,
            )
            keys = one_of(connection, source_items.c.key, [record.key for record in chunk])
            connection.execute(delete(source_items).where(keys))

    def remember(self, seen: Sequence[SeenSegment]) -> None:
        """Keep what the segments just written (or holding no item) gave; a fingerprint kept
        already stays as it is: the same bytes under the same parser give the same."""
        rows = [
            {
                "source": self.source,
                "fingerprint": s.fingerprint,
                "key": s.key,
                "problems": _problems_json(s.problems),
            }
            for s in seen
        ]
        for start in range(0, len(rows), BATCH):
            insert_rows(self.connection, source_items, rows[start : start + BATCH], or_ignore=True)

    def forget_unless(self, seen: Callable[[str], bool], segments: int) -> int:
        """Forget fingerprints this dump no longer holds (only when there are more than its
        `segments`, so that an unchanged dump reads nothing more); how many were forgotten."""
        where = source_items.c.source == self.source
        kept = self.connection.scalar(select(func.count()).select_from(source_items).where(where))
        if not kept or kept <= segments:
            return 0
        kept_prints = self.connection.scalars(select(source_items.c.fingerprint).where(where))
        stale = [fingerprint for fingerprint in kept_prints if not seen(fingerprint)]
        for start in range(0, len(stale), BATCH):
            chunk = stale[start : start + BATCH]
            gone = one_of(self.connection, source_items.c.fingerprint, chunk)
            self.connection.execute(delete(source_items).where(where, gone))
        return len(stale)

    def finish(self, state_values: dict[str, Any]) -> IngestCounts:
        """Record the source's state, its sections and a new content version if anything
        changed; the counts of the whole source."""
        record_source(self.connection, self.source, {"last_ingest": self.now, **state_values})
        _note_sections(self.connection, self.sections)
        if self.counts.changed:
            bump_version(self.connection)
        return self.counts


class SourceItemsMixin(StoreBase):
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
        languages: Sequence[str] = LANGUAGE_ORDER,
    ) -> IngestCounts:
        """Store records parsed elsewhere (tests, benchmarks) as one source's ingest, in one
        transaction, through the same writes as the segment ingest; `languages` is the order
        of preference of the versions feeds without ?lang= show."""
        with self.source_ingest(source, now, topics_of, languages) as session:
            session.counts.found = len(records)
            for start in range(0, len(records), BATCH):
                chunk = records[start : start + BATCH]
                session.write(chunk)
                if progress:
                    progress(len(chunk))
            session.sections |= {r.section for r in records if r.section}
            state = {"content_sha256": content_sha256, "etag": etag, "last_modified": last_modified}
            return session.finish({**state, "items_found": len(records), "problems": problems})

    @contextmanager
    def source_ingest(
        self,
        source: str,
        now: datetime,
        topics_of: TopicsOf,
        languages: Sequence[str] = LANGUAGE_ORDER,
        terms_of: TermsOf = release_terms,
        origin: str = "dump",
    ) -> Iterator[SourceIngest]:
        """One source's segment-by-segment ingest, committed when the block ends normally."""
        with self._begin() as connection:
            tune_for_ingest(connection)
            yield SourceIngest(connection, source, now, topics_of, languages, terms_of, origin)

    def source_segments(self, source: str) -> list[dict[str, Any]]:
        """Every segment kept for a source (for inspection and tests)."""
        with self._connect() as connection:
            query = select(source_items).where(source_items.c.source == source)
            return [row._asdict() for row in connection.execute(query)]
