"""Pure parse of a dump segment by segment (issue 18): the head, each item on its own, and
the dump-wide rules applied in the dump's order (`DumpOrder`: positions, duplicates).

`parse_bytes` parses a whole dump this way; `feeds.ingest` does the same with the segments
it has not seen before, and takes the others' results from the store. The parser tests and
its property tests run through `parse_bytes`, so they hold for both.
"""

from dataclasses import dataclass, field, replace

from feeds.dumps.decoding import decode_dump
from feeds.dumps.dumpparse import parse_lines
from feeds.dumps.dumpsplit import UTF8_ERRORS, Segment, lines_of, segments
from feeds.dumps.records import ItemRecord, to_record
from feeds.errors import Problem


# No slots: a frozen dataclass with slots pickles through `dataclasses.fields` per object,
# 1.4 times as slow to send to the parsing processes and back (measured: 14 vs 10 µs an item).
@dataclass(frozen=True)
class ParsedItem:
    """What one item segment gives: its record (position 0: `DumpOrder` places it) and its
    problems as (line offset from the segment's first line, message)."""

    line: int
    record: ItemRecord | None  # None: the segment holds no item (a bad date, say)
    problems: tuple[tuple[int, str], ...]
    subjects: frozenset[str] | None = None  # its subject topics, when classified with it
    terms: str | None = None  # its search terms (`release_terms`), when made with it

    def problems_in(self, source: str) -> list[Problem]:
        return problems_at(source, self.line, self.problems)


def problems_at(source: str, line: int, problems: tuple[tuple[int, str], ...]) -> list[Problem]:
    """A segment's problems, kept as (line offset, message), as the source's problems."""
    return [Problem(source, line + offset, message) for offset, message in problems]


@dataclass
class ParsedDump:
    section: str | None
    records: list[ItemRecord]
    problems: list[Problem]


def parse_head(segment: Segment, source: str) -> tuple[str | None, list[Problem]]:
    """The section and the problems of a dump's head (its lines before the first item)."""
    result = parse_lines(segment.lines(), source, report_empty=not segment.items_follow)
    return result.section, result.problems


def parse_item(
    segment: Segment, source: str, section: str | None, after_section: bool
) -> ParsedItem:
    """One item segment alone, as the whole dump's parse reads it (`parsepool.parse_items`
    adds its subject topics and search terms)."""
    result = parse_lines(
        segment.lines(),
        source,
        start=segment.line,
        section=section,
        after_section=after_section,
        at_title=True,
    )
    # A segment starts at a title line and ends before the next: one item at most.
    assert len(result.items) <= 1, f"{source}: line {segment.line}: segment of several items"
    record = to_record(result.items[0]) if result.items else None
    problems = tuple((p.line - segment.line, p.message) for p in result.problems)  # type: ignore[operator]
    return ParsedItem(segment.line, record, problems)


@dataclass
class DumpOrder:
    """The rules that depend on the whole dump, applied item by item in the dump's order:
    an item's position among the dump's items, and a repeated identity keeping its first
    (newest) occurrence (`records.to_records` did both over the whole list)."""

    source: str
    first_line: dict[str, int] = field(default_factory=dict)
    duplicates: list[Problem] = field(default_factory=list)
    items: int = 0

    def place(self, line: int, key: str) -> int | None:
        """The item's position in the dump, or None (reported) when its identity came before."""
        position, self.items = self.items, self.items + 1
        first = self.first_line.setdefault(key, line)
        if first != line:
            self.duplicates.append(
                Problem(self.source, line, f"same item as line {first}; kept the first")
            )
            return None
        return position


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """In line order, those of the whole dump first; stable, as the parser reported them."""
    return sorted(problems, key=lambda p: p.line or 0)


def parse_bytes(data: bytes, name: str) -> ParsedDump:
    """Decode, parse and turn into records: everything pure about one dump, held whole."""
    text, problems = decode_dump(data, name)
    raw = text.removeprefix("\ufeff").encode("utf-8", UTF8_ERRORS)
    parts = segments(lines_of([raw]))
    section, head_problems = parse_head(next(parts), name)
    problems.extend(head_problems)
    order = DumpOrder(name)
    records: list[ItemRecord] = []
    after_section = section is not None
    for segment in parts:
        parsed = parse_item(segment, name, section, after_section)
        after_section = True
        problems.extend(parsed.problems_in(name))
        if parsed.record is None:
            continue
        position = order.place(parsed.line, parsed.record.key)
        if position is not None:
            records.append(replace(parsed.record, position=position))
    return ParsedDump(section, records, sort_problems([*problems, *order.duplicates]))
