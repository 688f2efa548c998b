"""Ingest: read each source, parse it, store its items, report what happened.

A source that cannot be read is reported and the others go on; problems inside a dump are
reported with their line and the good items around them are stored.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from feeds.classify import TopicRules, load_topics
from feeds.errors import Problem, SourceError
from feeds.http import DumpClient
from feeds.itemparse import ParsedDump, parse_bytes

__all__ = ["Ingester", "ParsedDump", "SourceReport", "parse_bytes"]
from feeds.settings import Settings
from feeds.sources import Source, expand, read_file
from feeds.store import IngestCounts, Store

Progress = Callable[[int], None]


@dataclass
class SourceReport:
    source: str
    counts: IngestCounts = field(default_factory=IngestCounts)
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None  # set when the source could not be read at all
    skipped: bool = False  # unchanged since the last ingest (same hash, or HTTP 304)


@dataclass
class Ingester:
    store: Store
    settings: Settings
    client: DumpClient = field(default_factory=DumpClient)
    progress: Callable[[str, int], Progress | None] | None = None
    rules: TopicRules = field(init=False)

    def __post_init__(self) -> None:
        self.rules = load_topics(self.settings.topics_file)

    def run(
        self, specs: list[str] | tuple[str, ...], *, skip_unchanged: bool = False
    ) -> list[SourceReport]:
        """Ingest every source; stored items are first re-classified if the rules changed."""
        self.store.reclassify(self.rules.topics_of, self.rules.fingerprint)
        found, errors = expand(specs)
        reports = [SourceReport(str(error).split(": ", 1)[0], error=str(error)) for error in errors]
        for source in found:
            reports.append(self.ingest(source, skip_unchanged=skip_unchanged))
        return reports

    def ingest(self, source: Source, *, skip_unchanged: bool = False) -> SourceReport:
        report = SourceReport(source.name)
        previous = self.store.source_state(source.name) if skip_unchanged else None
        try:
            data, etag, last_modified = self._read(source, previous)
        except SourceError as exc:
            report.error = str(exc)
            return report
        digest = hashlib.sha256(data).hexdigest() if data is not None else None
        if data is None or (previous and previous.content_sha256 == digest):
            report.skipped = True
            return report
        parsed = parse_bytes(data, source.name)
        report.problems = parsed.problems
        progress = self.progress(source.name, len(parsed.records)) if self.progress else None
        report.counts = self.store.ingest(
            source.name,
            parsed.records,
            datetime.now(UTC),
            problems=len(parsed.problems),
            content_sha256=digest,
            topics_of=self.rules.topics_of,
            etag=etag,
            last_modified=last_modified,
            progress=progress,
        )
        return report

    def _read(
        self, source: Source, previous: dict | None
    ) -> tuple[bytes | None, str | None, str | None]:
        """(bytes or None when the server says unchanged, ETag, Last-Modified)."""
        if not source.is_url:
            return read_file(source.name, self.settings.max_dump_bytes), None, None
        fetched = self.client.fetch(
            source.name,
            timeout=self.settings.fetch_timeout,
            max_bytes=self.settings.max_dump_bytes,
            etag=previous.etag if previous else None,
            last_modified=previous.last_modified if previous else None,
        )
        return (
            (None if fetched.status == 304 else fetched.body),
            fetched.etag,
            fetched.last_modified,
        )
