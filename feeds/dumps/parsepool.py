"""Parsing, classifying and making the search terms of new items in other processes, while the
ingest's own process writes (issue 18: a first ingest is CPU-bound in that work on the text).

A standard-library process pool: the workers are started with `spawn` (the ingest may run
inside the scheduler, whose threads a fork would copy mid-write, see docs/DESIGN.md) and
import only the pure parser and the topic rules. Results come back in the order asked, so the
dump-wide rules (`itemparse.DumpOrder`) are applied in the ingest's process as before.
"""

import os
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import fields
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from feeds.dumps.dumpsplit import Segment
from feeds.dumps.itemparse import ParsedItem, parse_item
from feeds.dumps.records import ItemRecord
from feeds.lifeline import die_with_parent
from feeds.text.classify import TopicRules, load_topics
from feeds.text.search_terms import release_terms

# (segment, whether a section line came before it)
Task = tuple[Segment, bool]
# A parsed item as it crosses between processes (`pack`): (line, the record's field values in
# their declared order or None, problems, subjects, terms). Frozen dataclasses pickle through
# copyreg and a state dict per object: plain tuples cost 19 µs an item less both ways
# (measured on the 20k dump: 39 µs pickled and unpickled as objects, 19 as tuples).
Packed = tuple[int, tuple[Any, ...] | None, tuple[tuple[int, str], ...], Any, str | None]
_RECORD_FIELDS = tuple(field.name for field in fields(ItemRecord))
_new = object.__new__

_rules: TopicRules | None = None  # each worker's own, read once by `_start`


def parse_items(
    tasks: list[Task],
    source: str,
    section: str | None,
    rules: TopicRules | None,
    *,
    with_terms: bool = True,
) -> list[ParsedItem]:
    """Parse item segments, in order; given the rules, with their subject topics and (unless
    not `with_terms`) their search terms.

    Each of the three passes goes over the whole batch before the next starts, instead of
    each item going through all three: the same work costs a fifth less CPU so (issue 31:
    194 against 244 µs an item on the bench's dump, one process; the parser's patterns, the
    topics' automaton and the stems stay in the processor's caches through their pass)."""
    parsed = [parse_item(segment, source, section, after) for segment, after in tasks]
    if rules is None:
        return parsed
    records = [item.record for item in parsed]
    subjects = [rules.classify(r.title, r.body) if r else None for r in records]
    terms = [release_terms(r.title, r.body, r.lang) if r and with_terms else None for r in records]
    return [
        ParsedItem(item.line, item.record, item.problems, item_subjects, item_terms)
        for item, item_subjects, item_terms in zip(parsed, subjects, terms, strict=True)
    ]


def pack(items: list[ParsedItem]) -> list[Packed]:
    """The items as tuples, for the trip back from a worker."""
    return [
        (
            item.line,
            None if item.record is None else tuple(vars(item.record).values()),
            item.problems,
            item.subjects,
            item.terms,
        )
        for item in items
    ]


def unpack(rows: list[Packed]) -> list[ParsedItem]:
    """The items `pack` made, equal to those packed. Built as unpickling builds a dataclass
    (its fields set without `__init__`: they were checked where the record was made)."""
    found = []
    for line, values, problems, subjects, terms in rows:
        record = None
        if values is not None:
            record = _new(ItemRecord)
            vars(record).update(zip(_RECORD_FIELDS, values, strict=True))
        found.append(ParsedItem(line, record, problems, subjects, terms))
    return found


class Parsing:
    """A batch being parsed by the pool; `result` waits for its items (and raises what the
    pool raised: BrokenProcessPool when a worker died)."""

    def __init__(self, future: "Future[list[Packed]]") -> None:
        self.future = future

    def result(self) -> list[ParsedItem]:
        return unpack(self.future.result())


def _start(topics_file: str, parent: int) -> None:
    # A killed ingest (an OOM killer, a timeout's SIGKILL) used to leave its workers
    # running as orphans, about 68 MB each, until reboot.
    die_with_parent(parent)
    global _rules
    _rules = load_topics(topics_file)


def _parse_in_worker(tasks: list[Task], source: str, section: str | None) -> list[Packed]:
    return pack(parse_items(tasks, source, section, _rules))


class ParsePool:
    """`workers` processes, started on first use; `submit` returns a future of the batch."""

    def __init__(self, workers: int, topics_file: str | Path) -> None:
        self.workers = workers
        self.topics_file = str(topics_file)
        self._pool: ProcessPoolExecutor | None = None
        self.broken = False  # a worker died: parse in the ingest's process until `close`

    def submit(self, tasks: list[Task], source: str, section: str | None) -> Parsing:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=get_context("spawn"),
                initializer=_start,
                initargs=(self.topics_file, os.getpid()),
            )
        return Parsing(self._pool.submit(_parse_in_worker, tasks, source, section))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        self.broken = False
