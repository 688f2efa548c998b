"""Property tests of the parser: it never fails on any text, and items survive a round trip
through the dump writer."""

from datetime import date
from itertools import pairwise

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from feeds.dumps.dumpparse import parse_dump
from feeds.dumps.dumpwrite import DumpItem, write_dump
from feeds.ingest import parse_bytes

# Words of one script each (mixed-script words are "repaired" by design), no digits at the
# end of a line (a body line ending in " DD.MM.YYYY" is, by the format, a title line).
LATIN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8
)
CYRILLIC = st.text(
    alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяӘәҚқҢңӨөҰұҮүІі", min_size=1, max_size=8
)
# Ampersands as scrapers leave them: references to decode, and text that only looks close.
AMPERSANDS = st.sampled_from(["&amp;", "&#171;", "&#x41;", "&nbsp;x", "R&D", "&notify=1", "&amp"])
PUNCTUATED = st.builds(
    lambda w, p: w + p, LATIN | CYRILLIC | AMPERSANDS, st.sampled_from([",", ";", " –", ""])
)
WORDS = st.lists(PUNCTUATED, min_size=1, max_size=12).map(" ".join)
SENTENCE = WORDS.map(lambda text: text.rstrip(" –,;") or "x")
DAYS = st.dates(min_value=date(1991, 1, 1), max_value=date(2100, 12, 31))
IDS = st.integers(min_value=1, max_value=10**9)
AGENCIES = st.sampled_from(["mfa", "mfa-washington", "kgd-akmola", "almaty"])
KINDS = st.sampled_from(["press/news", "press/article", "documents"])


@st.composite
def dump_items(draw: st.DrawFn) -> DumpItem:
    body = "\n".join(draw(st.lists(SENTENCE.map(lambda s: s + "."), max_size=3)))
    link = None
    if draw(st.booleans()):
        link = (
            f"https://www.gov.kz/memleket/entities/{draw(AGENCIES)}/{draw(KINDS)}/details/{draw(IDS)}"
            f"?lang={draw(st.sampled_from(['kk', 'ru', 'en']))}"
        )
    others = tuple(draw(st.lists(st.just("https://top-news.kz/a/b/"), max_size=1)))
    return DumpItem(
        title=draw(SENTENCE), day=draw(DAYS), body=body, link=link, other_sources=others
    )


@given(st.text())
@settings(max_examples=300)
def test_any_text_parses_without_error(text: str) -> None:
    result = parse_dump(text, "any.txt")
    for item in result.items:
        assert "\n" not in item.title and item.title == item.title.strip()
        assert item.day.year >= 1991


@given(st.binary())
@settings(max_examples=200)
def test_any_bytes_parse_without_error(data: bytes) -> None:
    parsed = parse_bytes(data, "any.bin")
    for record in parsed.records:
        assert not any(ord(c) < 32 and c not in "\t\n" for c in record.title + record.body)


@given(st.sampled_from(["News", "World", "Жаңалықтар"]), st.lists(dump_items(), max_size=8))
@settings(max_examples=200)
def test_items_round_trip_through_the_writer(section: str, items: list[DumpItem]) -> None:
    assume(dump_can_say(items))
    result = parse_dump(write_dump(section, items), "round.txt")
    assert result.problems == []
    assert result.section == section
    assert [
        (i.title, i.day, i.body, i.link.url if i.link else None, i.other_sources)
        for i in result.items
    ] == [(i.title, i.day, i.body, i.link, i.other_sources) for i in items]


def dump_can_say(items: list[DumpItem]) -> bool:
    """False for an item of only a title line followed by one of the same title and day: the
    dump holds the title line twice in a row, which the parser reads once (SPEC: a title
    line written twice); no dump can say it was two items."""
    return not any(
        _title_only(a) and (a.title, a.day) == (b.title, b.day) for a, b in pairwise(items)
    )


def _title_only(item: DumpItem) -> bool:
    return not (item.body or item.link or item.other_sources)
