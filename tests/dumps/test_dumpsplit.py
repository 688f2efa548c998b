"""The segment-by-segment parse (issue 18) gives exactly what the whole-text parse gave: the
same section, records (positions and lines included) and problems, in the same order, on the
sample dumps, the hostile corpus and any bytes; and the cheap pass cuts lines as an editor
numbers them, whatever the chunks."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.dumps.decoding import decode_dump
from feeds.dumps.dumpparse import is_title_line, parse_dump, split_lines
from feeds.dumps.dumpsplit import lines_of, segments
from feeds.dumps.itemparse import ParsedDump, parse_bytes, sort_problems
from feeds.dumps.records import to_records
from tests.conftest import SAMPLE_DUMPS
from tests.hostile_corpus import corpus

CORPUS = list(corpus())
GOVKZ_SOURCE = "b.Source : https://www.gov.kz/memleket/entities/mfa/press/news/details/1"


def whole_text_parse(data: bytes, name: str) -> ParsedDump:
    """The parse of a dump before issue 18: decode it whole, parse the text, make records."""
    text, problems = decode_dump(data, name)
    result = parse_dump(text, name)
    records, duplicates = to_records(result.items, name)
    return ParsedDump(
        result.section, records, sort_problems([*problems, *result.problems, *duplicates])
    )


def assert_same_parse(data: bytes, name: str = "d.txt") -> None:
    assert parse_bytes(data, name) == whole_text_parse(data, name)


@pytest.mark.parametrize("path", SAMPLE_DUMPS, ids=lambda p: Path(p).name)
def test_sample_dumps_parse_the_same_segment_by_segment(path: Path) -> None:
    assert_same_parse(Path(path).read_bytes())


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_hostile_dumps_parse_the_same_segment_by_segment(case) -> None:  # type: ignore[no-untyped-def]
    assert_same_parse(case.data, case.name)


EDGE_CASES = [
    b"",
    b"\n\n",
    b"\xef\xbb\xbf\xef\xbb\xbf\xef\xbb\xbfNews\nTitle 01.01.2026\nbody",
    b"Title 01.01.2026\nbody\nTitle 01.01.2026\nbody",  # no section; a duplicate
    b"News\nstray text\nmore\nTitle one 01.01.2026\nbody",
    b"News\nBad date 31.02.2026\nbody\nGood 01.02.2026\nbody 10.01.2026 \xd0\xb3.",
    b"News\r\nA 5.1.2026\r\nb\rC &#48;1.01.2026\nd\x07\nE 01.01.2026\x07\n\xe2\x80\x8b",
    b"News\nTitle \xd9\xa1.01.2026\nbody\n09.01.2026\nx\xc2\xa0 02.01.2026\xc2\xa0",
    "Жаңалықтар\nЗаголовок 01.01.2026\nТекст Source : https://www.gov.kz/memleket/"
    "entities/mfa/press/news/details/1?lang=kk\n".encode(),
    b"\xff\xfeN\x00e\x00w\x00s\x00\n\x00T\x00 \x001\x00.\x001\x00.\x002\x000\x002\x006\x00",
    b"News\nTitle 01.01.2026\nbad \xff byte\nTitle2 02.01.2026\n",
    f"News\nA 01.01.2026\n{GOVKZ_SOURCE}\nB 01.01.2026.\nC01.01.2026\n\nD 01.01.2026 10:30\n"
    f"x{GOVKZ_SOURCE}\n\nE 2026-01-01\nE 2026-01-01\nF 01.01.2026\nF 01.01.2026\nF 01.01.2026\n"
    "G 31.02.2026\nG 31.02.2026\n\nH 01.01.2026\n\nH 01.01.2026".encode(),
    # after a Source line: lines too long to be a title (by characters, by bytes), then one
    f"News\nA 01.01.2026\n{GOVKZ_SOURCE}\n{'Ж' * 3985} 01.01.2026.\nb{GOVKZ_SOURCE}\n"
    f"{'Ж' * 3986} 01.01.2026.\n{'x' * 990} 1.1.2026.\n".encode(),
]


@pytest.mark.parametrize("data", EDGE_CASES)
def test_edge_cases_parse_the_same_segment_by_segment(data: bytes) -> None:
    assert_same_parse(data)


TITLE_LIKE = st.sampled_from(
    ["T 01.01.2026", "01.02.2026", "X 31.02.2026", "Y 5.1.2026 ", "&#49;", "\u200b", "\x07",
     "\xa0", "Z 01.01.2026\u2028", "Source : https://www.gov.kz/x 01.01.2026", "\u0661", ";",
     # after a gov.kz Source line: titles with dates written otherwise, and repeated titles
     GOVKZ_SOURCE, "Source :\u200b https://gov.kz/", "x Дереккөз    :\t   HTTPS://WWW.GOV.KZ/",
     "источник: http://gov.kz/ Source : https://a.kz/", "ИСТОЧНИК     : https://gov.kz/", "Source : <https://gov.kz/x> 1.1.2026",
     # Unicode case folding: "ſ" is "s" and the Kelvin sign "k" to a text pattern, not to bytes
     "ſource : https://www.gov.kz/x", "Source : https://www.gov.\u212az/x",
     "T 01.01.2026." + " " * 40, "T 01.01.2026." + "\u200b" * 9, "T 01.01.2026.", "T01.01.2026",
     "T 01.01.2026 10:30", "T 2026-01-01", "(1.1.2026)", "X 31.02.2026.", "T  01.01.2026"]
)  # fmt: skip
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


@given(st.lists(st.tuples(st.text(max_size=12) | TITLE_LIKE, LINE_ENDS), max_size=12))
@settings(max_examples=600)
def test_any_lines_parse_the_same_segment_by_segment(lines: list[tuple[str, str]]) -> None:
    assert_same_parse("".join(text + end for text, end in lines).encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=200))
@settings(max_examples=200)
def test_any_bytes_parse_the_same_segment_by_segment(data: bytes) -> None:
    assert_same_parse(data)


@given(st.text(alphabet="ab\r\n", max_size=40), st.integers(min_value=1, max_value=7))
@settings(max_examples=300)
def test_lines_are_cut_as_an_editor_numbers_them_whatever_the_chunks(text: str, size: int) -> None:
    data = text.encode()
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    assert [line.decode() for line in lines_of(chunks)] == split_lines(text)


def test_segments_start_at_title_lines_after_the_head() -> None:
    data = b"News\nstray\nA 01.01.2026\nbody a\n\nB 02.01.2026\nbody b"
    found = [(s.line, s.raw, s.count, s.head) for s in segments(lines_of([data]))]
    assert found == [
        (1, b"News\nstray", 2, True),
        (3, b"A 01.01.2026\nbody a\n", 3, False),
        (6, b"B 02.01.2026\nbody b", 2, False),
    ]


@given(st.lists(st.text(max_size=6) | TITLE_LIKE, max_size=4).map(" ".join))
@settings(max_examples=500)
def test_the_quick_title_test_is_the_parsers(line: str) -> None:
    line = line.replace("\n", " ")  # a line holds no line break: they cut lines
    from feeds.dumps.dumpparse import (
        _title_date,
        collapse_spaces,
        decode_references,
        remove_unsafe_chars,
    )

    cleaned = collapse_spaces(remove_unsafe_chars(decode_references(line))[0])
    assert is_title_line(line) == (_title_date(cleaned) is not None)


@given(st.lists(st.text(max_size=6) | TITLE_LIKE, max_size=4).map(" ".join))
@settings(max_examples=500)
def test_the_bytes_source_line_test_is_the_parsers(line: str) -> None:
    from feeds.dumps.dumpparse import ends_body
    from feeds.dumps.dumpsplit import _ends_body

    assert _ends_body(line.encode("utf-8", "surrogatepass")) == ends_body(line)
