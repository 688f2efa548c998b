"""Parsing, classifying and making the search terms of new items in other processes, while the
ingest's own process writes (issue 18: a first ingest is CPU-bound in that work on the text).

A standard-library process pool: the workers are started with `spawn` (the ingest may run
inside the scheduler, whose threads a fork would copy mid-write, see docs/DESIGN.md) and
import only the pure parser and the topic rules. Results come back in the order asked, so the
dump-wide rules (`itemparse.DumpOrder`) are applied in the ingest's process as before.
"""

import os
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from feeds.dumps.dumpsplit import Segment
from feeds.dumps.itemparse import ParsedItem, parse_item
from feeds.lifeline import die_with_parent
from feeds.text.classify import TopicRules, load_topics

# (segment, whether a section line came before it)
Task = tuple[Segment, bool]

_rules: TopicRules | None = None  # each worker's own, read once by `_start`


def parse_items(
    tasks: list[Task], source: str, section: str | None, rules: TopicRules | None
) -> list[ParsedItem]:
    """Parse item segments, in order; given the rules, with their topics and search terms."""
    classify = rules.classify if rules else None
    return [
        parse_item(segment, source, section, after, classify, with_terms=rules is not None)
        for segment, after in tasks
    ]


def _start(topics_file: str, parent: int) -> None:
    # A killed ingest (an OOM killer, a timeout's SIGKILL) used to leave its workers
    # running as orphans, about 68 MB each, until reboot.
    die_with_parent(parent)
    global _rules
    _rules = load_topics(topics_file)


def _parse_in_worker(tasks: list[Task], source: str, section: str | None) -> list[ParsedItem]:
    return parse_items(tasks, source, section, _rules)


class ParsePool:
    """`workers` processes, started on first use; `submit` returns a future of the batch."""

    def __init__(self, workers: int, topics_file: str | Path) -> None:
        self.workers = workers
        self.topics_file = str(topics_file)
        self._pool: ProcessPoolExecutor | None = None
        self.broken = False  # a worker died: parse in the ingest's process until `close`

    def submit(
        self, tasks: list[Task], source: str, section: str | None
    ) -> "Future[list[ParsedItem]]":
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=get_context("spawn"),
                initializer=_start,
                initargs=(self.topics_file, os.getpid()),
            )
        return self._pool.submit(_parse_in_worker, tasks, source, section)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        self.broken = False
