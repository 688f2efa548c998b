"""Ingest: read each source, parse what changed, store its items, report what happened.

A source that cannot be read is reported and the others go on; problems inside a dump are
reported with their line and the good items around them are stored.

A dump is read chunk by chunk and cut into segments (`feeds.dumps.dumpsplit`: its head, then one
segment per item); each segment's bytes are fingerprinted, and only segments that the
source's earlier ingests did not see are parsed (in other processes when there are many)
and written. A known segment costs a lookup: the key, content hash and problems it gave are
in the store (`source_items`), and its item is written again only when the stored item is
no longer what it gives. Memory stays that of a few batches of segments whatever the dump's
size; the whole source is still one transaction.
"""

import hashlib
import logging
import time
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import import_module
from pathlib import Path

from feeds.dumps.decoding import decode_dump
from feeds.dumps.dumpsplit import (
    UTF8_ERRORS,
    Fingerprints,
    Segment,
    lines_of,
    segments,
    without_boms,
)
from feeds.dumps.itemparse import (
    DumpOrder,
    ParsedDump,
    ParsedItem,
    parse_bytes,
    parse_head,
    problems_at,
    sort_problems,
)
from feeds.dumps.parsepool import ParsePool, Parsing, Task, parse_items
from feeds.dumps.records import KAZAKHSTAN, ItemRecord
from feeds.dumps.sources import DumpBytes, Source, expand, scan_bytes, scan_file
from feeds.errors import Problem, SourceError
from feeds.portal.http import DumpClient
from feeds.settings import Settings
from feeds.store import IngestCounts, KnownSegment, SeenSegment, SourceIngest, Store
from feeds.text.classify import TopicRules, load_topics
from feeds.text.search_terms import release_terms

__all__ = ["Ingester", "ParsedDump", "SourceReport", "parse_bytes"]

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
SEGMENTS = 500  # segments looked up, parsed and written at a time
AHEAD = 2  # batches being parsed by the pool while the ingest writes the one before
POOL_MIN_BYTES = 4_000_000  # smaller dumps (about 3,500 items) parse faster than a pool starts
POOL_MIN_SEGMENTS = 200  # fewer new segments in a batch are parsed here: a grown dump's few
TAIL_SEGMENTS = POOL_MIN_SEGMENTS  # a batch near the end of a dump the pool parses (`_batches`)
# The modules whose code a parse depends on (`parse_salt`).
_PARSE_MODULE_NAMES = (
    "feeds.dumps.decoding",
    "feeds.dumps.dumpparse",
    "feeds.dumps.dumpsplit",
    "feeds.dumps.itemparse",
    "feeds.text.language",
    "feeds.dumps.legacy",
    "feeds.text.links",
    "feeds.dumps.records",
    "feeds.text.textclean",
)
PARSE_MODULES = tuple(import_module(name) for name in _PARSE_MODULE_NAMES)


@cache
def parse_salt() -> bytes:
    """A digest of the parser's code: a segment parsed by other code is parsed again."""
    digest = hashlib.blake2b(digest_size=16)
    for module in PARSE_MODULES:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.digest()


@dataclass
class SourceReport:
    source: str
    counts: IngestCounts = field(default_factory=IngestCounts)
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None  # set when the source could not be read at all
    skipped: bool = False  # unchanged since the last ingest (same hash, or HTTP 304)
    seconds: float = 0.0  # reading, parsing and writing it

    @property
    def items_per_second(self) -> float:
        return self.counts.found / self.seconds if self.seconds else 0.0


class _Analysed:
    """The store's TopicsOf and TermsOf, given the subject topics and search terms that the
    parse made with each record (so they are not made twice); the rules' own and
    `release_terms` for any other item."""

    def __init__(self, rules: TopicRules) -> None:
        self.rules = rules
        self.parsed: dict[tuple[str, str], ParsedItem] = {}  # by (title, body)

    def add(self, item: ParsedItem) -> None:
        if item.record is not None:
            self.parsed[(item.record.title, item.record.body)] = item

    def topics_of(self, title: str, body: str, sections: Iterable[str]) -> frozenset[str]:
        item = self.parsed.get((title, body))
        subjects = item.subjects if item else None
        if subjects is None:
            subjects = self.rules.classify(title, body)
        return subjects | self.rules.section_slugs(sections)

    def terms_of(self, title: str, body: str, lang: str) -> str:
        item = self.parsed.get((title, body))
        terms = item.terms if item else None
        return release_terms(title, body, lang) if terms is None else terms


@dataclass
class _Batch:
    """Segments in the dump's order, with what is known of them and what is being parsed."""

    tasks: list[Task]  # (segment, after a section line)
    fingerprints: list[str]
    known: dict[str, KnownSegment]
    parsing: Parsing | list[ParsedItem]
    size: int  # bytes, for the progress bar


@dataclass
class _Dump:
    """The state of one source's ingest that spans its batches."""

    name: str
    section: str | None
    session: SourceIngest
    order: DumpOrder
    problems: list[Problem]
    # The first 64 bits of every fingerprint seen, 8 bytes each (a set would take 80): only
    # to forget the fingerprints the dump no longer holds, where a rare collision is harmless.
    seen: array = field(default_factory=lambda: array("Q"))
    fingerprints: Fingerprints = field(init=False)

    def __post_init__(self) -> None:
        self.fingerprints = Fingerprints(parse_salt(), self.section)

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    found: int = 0
    segments: int = 0
    total: int = 0  # the dump's bytes
    progressed: int = 0  # bytes shown on the progress bar


@dataclass
class Ingester:
    store: Store
    settings: Settings
    client: DumpClient = field(default_factory=DumpClient)
    progress: Callable[[str, int], Progress | None] | None = None  # (source, bytes) -> bar
    rules: TopicRules = field(init=False)
    pool: ParsePool = field(init=False)

    def __post_init__(self) -> None:
        self.rules = load_topics(self.settings.topics_file)
        self.pool = ParsePool(self.settings.ingest_workers, self.settings.topics_file)

    def run(
        self, specs: list[str] | tuple[str, ...], *, skip_unchanged: bool = False
    ) -> list[SourceReport]:
        """Ingest every source; stored items are first re-classified if the rules changed,
        and their shown versions chosen again if the LANGUAGES setting did."""
        self.store.reclassify(self.rules.topics_of, self.rules.fingerprint)
        self.store.choose_versions(self.settings.languages)
        found, errors = expand(specs)
        reports = [SourceReport(str(error).split(": ", 1)[0], error=str(error)) for error in errors]
        try:
            for source in found:
                reports.append(self.ingest(source, skip_unchanged=skip_unchanged))
        finally:
            self.pool.close()
        return reports

    def ingest(self, source: Source, *, skip_unchanged: bool = False) -> SourceReport:
        started = time.perf_counter()
        report = SourceReport(source.name)
        previous = self.store.source_state(source.name) if skip_unchanged else None
        try:
            dump, etag, last_modified = self._read(source, previous)
            if dump is None or (previous and previous.content_sha256 == dump.sha256):
                report.skipped = True
                return report
            state = {"content_sha256": dump.sha256, "etag": etag, "last_modified": last_modified}
            report.counts, report.problems = self._ingest(dump, state)
        except SourceError as exc:
            report.error = str(exc)
        except UnicodeDecodeError:  # it was UTF-8 at the first read
            report.error = f"{source.name}: changed while it was read; nothing of it was stored"
        report.seconds = time.perf_counter() - started
        return report

    def _read(
        self, source: Source, previous: object | None
    ) -> tuple[DumpBytes | None, str | None, str | None]:
        """(the dump, or None when the server says unchanged; ETag; Last-Modified)."""
        if not source.is_url:
            return scan_file(source.name, self.settings.max_dump_bytes), None, None
        fetched = self.client.fetch(
            source.name,
            timeout=self.settings.fetch_timeout,
            max_bytes=self.settings.max_dump_bytes,
            etag=getattr(previous, "etag", None),
            last_modified=getattr(previous, "last_modified", None),
        )
        if fetched.status == 304:
            return None, fetched.etag, fetched.last_modified
        return scan_bytes(source.name, fetched.body), fetched.etag, fetched.last_modified

    # -- one source ---------------------------------------------------------------------------

    def _ingest(self, dump: DumpBytes, state: dict) -> tuple[IngestCounts, list[Problem]]:
        chunks, problems = _utf8_chunks(dump)
        size = dump.size
        bar = self.progress(dump.name, size) if self.progress else None
        parts = segments(lines_of(chunks))
        section, head_problems = parse_head(next(parts), dump.name)
        problems.extend(head_problems)
        analysed = _Analysed(self.rules)
        use_pool = self.settings.ingest_workers > 1 and size >= POOL_MIN_BYTES
        now = datetime.now(UTC)
        with self.store.source_ingest(
            dump.name,
            now,
            analysed.topics_of,
            self.settings.languages,
            analysed.terms_of,
        ) as session:
            run = _Dump(
                dump.name, section, session, DumpOrder(dump.name), problems, now=now, total=size
            )
            pending: deque[_Batch] = deque()
            for tasks in _batches(parts, section, size if use_pool else None):
                pending.append(self._start_batch(run, tasks, use_pool))
                if len(pending) > (AHEAD if use_pool else 0):
                    self._finish_batch(run, pending.popleft(), analysed, bar)
            while pending:
                self._finish_batch(run, pending.popleft(), analysed, bar)
            if bar:  # the head, and line ends, were not counted: end the bar at its total
                bar(max(0, size - run.progressed))
            # A repeated identity has no row of its own (its first copy's, or none).
            kept = run.segments - len(run.order.duplicates)
            run.session.forget_unless(_seen_test(run.seen), kept)
            if run.found and section:
                session.sections.add(section)
            problems_found = len(run.problems) + len(run.order.duplicates)
            counts = session.finish({**state, "items_found": run.found, "problems": problems_found})
        counts.found = run.found
        return counts, sort_problems([*run.problems, *run.order.duplicates])

    def _start_batch(self, run: _Dump, tasks: list[Task], use_pool: bool) -> _Batch:
        prints = [run.fingerprints.of(segment, after) for segment, after in tasks]
        known = run.session.known(prints)
        todo = [task for task, fp in zip(tasks, prints, strict=True) if fp not in known]
        parsing: Parsing | list[ParsedItem] | None
        parsing = None
        if use_pool and len(todo) >= POOL_MIN_SEGMENTS and not self.pool.broken:
            try:
                parsing = self.pool.submit(todo, run.name, run.section)
            except (BrokenProcessPool, OSError):  # OSError: no process could be started
                log.warning("%s: no parsing processes; parsing in the ingest's process", run.name)
                self.pool.broken = True
        if parsing is None:
            parsing = parse_items(todo, run.name, run.section, self.rules)
        return _Batch(tasks, prints, known, parsing, _batch_bytes(tasks))

    @staticmethod
    def _known_segment(run: _Dump, line: int, known: KnownSegment) -> None:
        """A segment whose bytes an earlier ingest parsed: its problems told again, its item
        placed, and counted as stored (most of a grown dump's segments: no object made)."""
        run.problems.extend(problems_at(run.name, line, known.problems))
        if known.key is not None and run.order.place(line, known.key) is not None:
            run.found += 1
            run.session.unchanged(1)  # its item is stored as these bytes give it

    def _parsed(self, run: _Dump, batch: _Batch) -> list[ParsedItem]:
        """The batch's new segments parsed; here, when the pool broke (a worker killed by
        the kernel's OOM killer, say): the ingest goes on without it."""
        if isinstance(batch.parsing, list):
            return batch.parsing
        try:
            return batch.parsing.result()
        except BrokenProcessPool:
            log.warning("%s: the parsing processes died; parsing in the ingest's process", run.name)
            self.pool.broken = True
            todo = [
                task
                for task, fp in zip(batch.tasks, batch.fingerprints, strict=True)
                if fp not in batch.known
            ]
            return parse_items(todo, run.name, run.section, self.rules)

    def _finish_batch(
        self, run: _Dump, batch: _Batch, analysed: _Analysed, bar: Progress | None
    ) -> None:
        parsed = iter(self._parsed(run, batch))
        write: list[ItemRecord] = []
        remember: list[SeenSegment] = []
        analysed.parsed.clear()
        run.segments += len(batch.tasks)
        run.seen.extend(int(fp[:16], 16) for fp in batch.fingerprints)
        for (segment, _), fp in zip(batch.tasks, batch.fingerprints, strict=True):
            known = batch.known.get(fp)
            if known:
                self._known_segment(run, segment.line, known)
                continue
            item = next(parsed)
            if item.record is not None and item.record.published > run.now + FUTURE_GRACE:
                item = _dated_when_read(item, item.record, run.now)
            run.problems.extend(item.problems_in(run.name))
            if item.record is None:
                remember.append(SeenSegment(fp, None, item.problems))
                continue
            position = run.order.place(segment.line, item.record.key)
            if position is None:
                continue  # a repeated identity: reported, and not remembered (see below)
            run.found += 1
            analysed.add(item)
            write.append(_placed(item.record, position))
            remember.append(SeenSegment(fp, item.record.key, item.problems))
        # A repeated identity is not remembered: were its first copy removed, it would be
        # the one to write, and a kept row would say it is stored already.
        run.session.write(write)
        run.session.remember(remember)
        if bar:
            # Never past the total (the last line may have no end); a CRLF counts one byte
            # here, so the bar lags a little and catches up when the dump ends.
            step = max(0, min(batch.size, run.total - run.progressed))
            bar(step)
            run.progressed += step


# A title dated after this (a day-month swap, a typo of the year) would stay on top of every
# feed, and move each feed's `updated`, until that day; tomorrow is only another time zone.
FUTURE_GRACE = timedelta(days=1)


def _dated_when_read(item: ParsedItem, record: ItemRecord, now: datetime) -> ParsedItem:
    """The item dated now (the store keeps a known item's first date), and a problem saying
    so in words that stay true when a later ingest tells its segment's problems again."""
    when = now.replace(microsecond=0)
    message = (
        f"title date {record.day:%d.%m.%Y} is after the day of the ingest that read it "
        f"({when.astimezone(KAZAKHSTAN):%d.%m.%Y}); dated when first read"
    )
    dated = replace(record, published=when)
    return replace(item, record=dated, problems=(*item.problems, (0, message)))


def _placed(record: ItemRecord, position: int) -> ItemRecord:
    """The record at its position among the dump's items. It was made by this ingest's
    parse and is no one else's, so it is set in place: `dataclasses.replace` cost 5 % of
    the ingest's own process (the pool's workers cannot know positions: a segment with a
    bad date holds no item, and which one does is known only once the segments before it
    are parsed)."""
    object.__setattr__(record, "position", position)
    return record


def _seen_test(seen: array) -> Callable[[str], bool]:
    """Whether a fingerprint is among those seen (binary search of the prefixes, sorted at
    the first question: most ingests forget nothing and never ask)."""
    ordered: list[array] = []

    def test(fingerprint: str) -> bool:
        if not ordered:
            ordered.append(array("Q", sorted(seen)))
        prefix = int(fingerprint[:16], 16)
        index = bisect_left(ordered[0], prefix)
        return index < len(ordered[0]) and ordered[0][index] == prefix

    return test


def _batches(
    parts: Iterator[Segment], section: str | None, pooled_bytes: int | None = None
) -> Iterator[list[Task]]:
    """Item segments in batches, each with whether a section line came before it (all but
    the first of a dump without a section line, which is reported).

    Given the bytes of a dump the pool parses: once less of it is left than the batches the
    pool holds ahead (AHEAD + 1 of the last full one's size), batches of TAIL_SEGMENTS. The
    pool is then done sooner after the dump's end, and leaves the ingest's process less to
    write alone before its commit (issue 31: with full batches, a second processor stood
    idle for the last 0.35 s of a first ingest)."""
    after = section is not None
    batch: list[Task] = []
    limit, read = SEGMENTS, 0
    for segment in parts:
        batch.append((segment, after))
        after = True
        if len(batch) >= limit:
            yield batch
            size = _batch_bytes(batch)
            read += size
            if pooled_bytes is not None and pooled_bytes - read < (AHEAD + 1) * size:
                limit = min(SEGMENTS, TAIL_SEGMENTS)
            batch = []
    if batch:
        yield batch


def _batch_bytes(tasks: list[Task]) -> int:
    """The dump's bytes a batch's segments hold, each with its last line's end."""
    return sum(len(segment.raw) + 1 for segment, _ in tasks)


def _utf8_chunks(dump: DumpBytes) -> tuple[Iterator[bytes], list[Problem]]:
    """The dump's UTF-8 bytes chunk by chunk, and the problems of decoding it: a UTF-8 dump
    is read as it is; any other is decoded whole (`decode_dump` needs all of it to guess)."""
    if not dump.utf8:
        text, problems = decode_dump(dump.whole(), dump.name)
        return iter([text.removeprefix("\ufeff").encode("utf-8", UTF8_ERRORS)]), problems

    def chunks() -> Iterator[bytes]:
        first = True
        for chunk in dump.chunks():
            yield without_boms(chunk) if first else chunk
            first = False

    return chunks(), []
