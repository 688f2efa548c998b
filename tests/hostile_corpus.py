"""A corpus of generated hostile dumps (issue 9), each with the exact number of well-formed
items it holds, so that a test can assert that every one of them was ingested and that the
hostile parts around them made no item of their own.

Every case is built from a seeded random generator: the same bytes on every run. Well-formed
items are written by `feeds.dumps.dumpwrite` and carry gov.kz ids from a range of their own per
case (or, for link-less items, titles of their own), so cases can share one store.
"""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from feeds.dumps.dumpwrite import DumpItem, write_item

LINK = "https://www.gov.kz/memleket/entities/{agency}/press/news/details/{id}?lang={lang}"
AGENCIES = ("mfa", "mfa-washington", "kgd-akmola", "almaty-almaly", "hostile-agency")


@dataclass(frozen=True)
class HostileDump:
    name: str
    data: bytes
    expected: int  # items in it: every well-formed one, each identity once
    ids: frozenset[str]  # the gov.kz ids among them (link-less items have none)


def good_items(first_id: int, count: int, *, title: str = "Well-formed item {i}") -> list[DumpItem]:
    """Items a scraper writes: a title, two body lines, the gov.kz link glued to the last."""
    return [
        DumpItem(
            title=title.format(i=first_id + i),
            day=date(2026, 1, 20) - timedelta(days=i % 40),
            body=f"The first sentence of item {first_id + i}.\nThe second one, about taxes.",
            link=LINK.format(agency=AGENCIES[i % len(AGENCIES)], id=first_id + i, lang="en"),
        )
        for i in range(count)
    ]


def _ids(items: list[DumpItem]) -> frozenset[str]:
    return frozenset(item.link.rsplit("/", 1)[1].split("?")[0] for item in items if item.link)


def _text(items: list[DumpItem]) -> str:
    return "\n".join(write_item(item) for item in items)


def _case(name: str, data: bytes, items: list[DumpItem]) -> HostileDump:
    return HostileDump(name, data, len(items), _ids(items))


def _garbage(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size)


def binary_garbage(rng: random.Random) -> HostileDump:
    first, second = good_items(9_100_000, 40), good_items(9_100_040, 40)
    data = b"\n".join(
        [
            b"News",
            _garbage(rng, 64_000),
            _text(first).encode(),
            _garbage(rng, 200_000),
            _text(second).encode(),
            _garbage(rng, 3_000),
        ]
    )
    return _case("binary-garbage", data, first + second)


def pure_garbage(rng: random.Random) -> HostileDump:
    return _case("pure-garbage", _garbage(rng, 300_000), [])


def huge_lines(rng: random.Random) -> HostileDump:
    items = good_items(9_200_000, 4)
    big_body = DumpItem(
        title="An item with a three-megabyte line",
        day=date(2026, 1, 5),
        body="word " * 600_000,
        link=LINK.format(agency="mfa", id=9_200_010, lang="en"),
    )
    one_word = DumpItem(
        title="An item with a two-megabyte word",
        day=date(2026, 1, 5),
        body="x" * 2_000_000,
        link=LINK.format(agency="mfa", id=9_200_011, lang="en"),
    )
    text = "\n".join(
        [
            "News",
            "before the first title " * 80_000,  # about 2 MB of text in no item
            _text(items[:2]),
            write_item(big_body),
            write_item(one_word),
            _text(items[2:]),
        ]
    )
    return _case("huge-lines", text.encode(), [*items, big_body, one_word])


def many_short_lines(lines: int) -> Callable[[random.Random], HostileDump]:
    """`lines` lines, almost all of one or two characters; every 50th a title line."""

    def build(rng: random.Random) -> HostileDump:
        items: list[DumpItem] = []
        out = ["News"]
        for number in range(1, lines):
            if number % 50 == 1:
                item = DumpItem(
                    title=f"Short-lines item {number}",
                    day=date(2025, 1, 1) + timedelta(days=number % 365),
                    body="",
                    link=LINK.format(agency="kgd-akmola", id=8_000_000 + number, lang="en"),
                )
                items.append(item)
                out.append(write_item(item))
            else:
                out.append(rng.choice(["x", ".", "ab", "-", " ", "", "й", "…"]))
        return _case(f"short-lines-{lines}", "\n".join(out).encode(), items)

    return build


def only_titles(rng: random.Random) -> HostileDump:
    """No section line and no bodies: every line is a title (link-less items)."""
    items = [
        DumpItem(title=f"Only a title number {i}", day=date(2026, 1, 1) + timedelta(days=i % 28))
        for i in range(300)
    ]
    return _case("only-titles", _text(items).encode(), items)


def only_bodies(rng: random.Random) -> HostileDump:
    words = ["the", "ministry", "said", "on", "Monday", "Министерство", "сообщило", "жаңа"]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(2000)]
    return _case("only-bodies", "\n".join(["News", *lines]).encode(), [])


def nested_sources(rng: random.Random) -> HostileDump:
    govkz = [LINK.format(agency="mfa", id=9_300_000 + i, lang="en") for i in range(8)]
    chain = "".join(f"Source: https://top-news.kz/{i}/" for i in range(60))
    bodies = [
        f"Nested citations.Source : Source : Source : {govkz[0]}",
        f"A chain of sixty.{chain}Source : {govkz[1]}",
        f"Other languages.Источник : Дереккөз : Source : {govkz[2]}",
        f"Two gov.kz links.Source : {govkz[3]}Source : {govkz[4].replace('9300004', '9399999')}",
        f"Empty citations first.Source : Source :Source :  Source : {govkz[5]}",
        f"Citation, then more lines.Source : {govkz[6]}\nA line after the citation.\nAnd one more.",
        f"Glued twice.Source : https://top-news.kz/a/Source : {govkz[7]}Source :",
    ]
    items = [
        DumpItem(title=f"Nested sources {i}", day=date(2026, 1, 10), body=body)
        for i, body in enumerate(bodies)
    ]
    items.append(DumpItem(title="Only citations, no link", day=date(2026, 1, 9), body=chain))
    text = "News\n" + _text(items) + "\nSource : Source : Source :\n" + "Source : " * 2000
    linked = {g.split("/")[-1].split("?")[0] for g in govkz} - {"9300004"}  # cited second
    return HostileDump("nested-sources", text.encode(), len(items), frozenset(linked))


def mixed_encodings(rng: random.Random) -> HostileDump:
    """ASCII title lines (whatever the guessed encoding, they stay items) with bodies in
    UTF-8, cp1251, KOI8-R and Latin-1, a UTF-8 BOM in the middle and UTF-16 prose."""
    items = good_items(9_400_000, 24, title="Mixed encodings {i}")
    encodings = ["utf-8", "cp1251", "koi8-r", "latin-1"]
    russian = "Министерство иностранных дел сообщило о визите"
    parts = [b"News"]
    for index, item in enumerate(items):
        encoding = encodings[index % len(encodings)]
        extra = russian if encoding != "latin-1" else "Café déjà vu, naïve façade"
        parts.append(write_item(item).replace("The first sentence", extra, 1).encode(encoding))
        if index == 10:
            parts.append(b"\xef\xbb\xbf" + b"a BOM in the middle of the file")
        if index == 17:
            parts.append("UTF-16 prose without dates".encode("utf-16-le"))
    return _case("mixed-encodings", b"\n".join(parts), items)


def utf16_with_bom(rng: random.Random) -> HostileDump:
    items = good_items(9_450_000, 10, title="Жаңалық UTF-16 {i}")
    return _case("utf16-bom", ("News\n" + _text(items)).encode("utf-16"), items)


def nul_bytes(rng: random.Random) -> HostileDump:
    items = good_items(9_500_000, 30)
    lines = ["Ne\x00ws"]
    for index, item in enumerate(items):
        text = write_item(item)
        if index % 3 == 0:
            text = text.replace("Well-formed", "Well\x00-formed\x00", 1)
        if index % 3 == 1:
            text = text.replace("sentence", "sen\x00\x00tence")
        lines.append(text)
        lines.append("\x00" * rng.randint(1, 5000))
    return _case("nul-bytes", "\n".join(lines).encode(), items)


def bidi_and_invisible(rng: random.Random) -> HostileDump:
    """Right-to-left text, bidirectional overrides and isolates, zero-width characters."""
    tricks = [
        "\u202e",
        "\u202d",
        "\u202a",
        "\u202c",
        "\u2066",
        "\u2067",
        "\u2069",
        "\u200b",
        "\ufeff",
    ]
    kept = ["\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\u061c"]
    titles = [
        "שלום עולם – a Hebrew title",
        "مرحبا بالعالم – an Arabic title",
        "\u202egnp.exe\u202c disguised file name",
        "Zero\u200bwidth\u200b space\u200b inside",
        "Isolates \u2067RTL\u2069 and \u2066LTR\u2069",
        "Joiners \u200dand\u200c non-joiners",
        "Marks \u200eleft\u200f right",
    ]
    items = [
        DumpItem(
            title=title + f" {i}",
            day=date(2026, 1, 12),
            body="".join(
                rng.choice(tricks + kept) + word for word in ["some", "words", "of", "a", "body"]
            )
            + "\nעברית ועוד عربي",
            link=LINK.format(agency="mfa", id=9_600_000 + i, lang="en"),
        )
        for i, title in enumerate(titles)
    ]
    invisible_lines = ["".join(rng.choice(tricks) for _ in range(200)) for _ in range(5)]
    text = "\u202eNews\n" + _text(items) + "\n" + "\n".join(invisible_lines)
    return _case("bidi-invisible", text.encode(), items)


def long_titles(rng: random.Random) -> HostileDump:
    linked = [
        DumpItem(
            title=("A title of ten thousand characters " * 300)[:10_000],
            day=date(2026, 1, 14),
            body="Its body.",
            link=LINK.format(agency="mfa", id=9_700_000 + i, lang="en"),
        )
        for i in range(3)
    ]
    base = "".join(rng.choice("abcdefghij ") for _ in range(9_990)).strip() or "a"
    linkless = [
        DumpItem(title=f"{base} end one", day=date(2026, 1, 14), body="Body one."),
        DumpItem(
            title=f"{base} end two", day=date(2026, 1, 14), body="Body two."
        ),  # differs at the end
        DumpItem(title="Ұзын тақырып " * 770, day=date(2026, 1, 13), body="Қазақша мәтін."),
    ]
    return _case("long-titles", ("News\n" + _text(linked + linkless)).encode(), linked + linkless)


def long_section(rng: random.Random) -> HostileDump:
    items = good_items(9_750_000, 3)
    section = "A section name of ten thousand characters " * 240
    return _case("long-section", (section + "\n" + _text(items)).encode(), items)


def hostile_links(rng: random.Random) -> HostileDump:
    """Links that look like gov.kz but are not item links: each such item is link-less."""
    path = "/memleket/entities/{agency}/press/news/details/{id}"
    urls = [
        "https://www.gov.kz" + path.format(agency="a" * 200, id=1),
        "https://www.gov.kz" + path.format(agency="mfa", id="9" * 40),
        "https://www.gov.kz/memleket/entities/mfa/" + "kind/" * 30 + "details/2",
        "https://www.gov.kz" + path.format(agency="..", id=3),
        "https://www.gov.kz" + path.format(agency="-dash", id=4),
        "https://www.gov.kz.evil.example" + path.format(agency="mfa", id=5),
        "https://www.gov.kz@evil.example" + path.format(agency="mfa", id=6),
        "http://gov.kz:8080" + path.format(agency="mfa", id=7),
        "https://127.0.0.1" + path.format(agency="mfa", id=8),
        "https://[::1]" + path.format(agency="mfa", id=9),
        "https://www.gov.kz" + path.format(agency="mfa", id="10/../../11"),
    ]
    items = [
        DumpItem(title=f"Hostile link {i}", day=date(2026, 1, 15), body="A body.", link=url)
        for i, url in enumerate(urls)
    ]
    case = _case("hostile-links", ("News\n" + _text(items)).encode(), items)
    return HostileDump(case.name, case.data, case.expected, frozenset())


def line_endings(rng: random.Random) -> HostileDump:
    items = good_items(9_800_000, 12, title="Line endings {i}")
    endings = ["\r\n", "\r", "\n", "\n\n\n", "\r\n\r\n"]
    text = "\ufeffNews"
    for item in items:
        for line in write_item(item).split("\n"):
            extra = rng.choice(["", "\t", "   ", "\u2028", "\x0c", "\x0b", "\x85", "\ufeff"])
            text += (
                rng.choice(endings)
                + extra
                + line.replace(" ", rng.choice([" ", "\t", "  "]), 1)
                + extra
            )
    return _case("line-endings", text.encode(), items)


def bad_dates(rng: random.Random) -> HostileDump:
    items = good_items(9_850_000, 6, title="Good date {i}")
    bad = [
        "31.02.2026",
        "00.01.2026",
        "01.13.2026",
        "01.01.1990",
        "01.01.2101",
        "01.01.0000",
        "99.99.9999",
    ]
    lines = ["News"]
    for index, item in enumerate(items):
        lines.append(write_item(item))
        lines.append(f"Bad date {index} {bad[index % len(bad)]}\nIts body is skipped with it.")
    lines.append("1.1.2026 is not a title date either")
    return _case("bad-dates", "\n".join(lines).encode(), items)


def duplicates(rng: random.Random) -> HostileDump:
    item = good_items(9_900_000, 1)[0]
    edited = DumpItem(item.title + " (edited)", item.day, "Other text.", item.link)
    linkless = DumpItem("The same link-less item", date(2026, 1, 3), "Body.")
    again = DumpItem("the SAME link-less item!", date(2026, 1, 3), "Other body.")
    items = [item, edited, item, linkless, again]
    case = _case("duplicates", ("News\n" + _text(items)).encode(), items)
    return HostileDump(case.name, case.data, 2, case.ids)


BUILDERS: tuple[Callable[[random.Random], HostileDump], ...] = (
    binary_garbage,
    pure_garbage,
    huge_lines,
    many_short_lines(100_000),
    only_titles,
    only_bodies,
    nested_sources,
    mixed_encodings,
    utf16_with_bom,
    nul_bytes,
    bidi_and_invisible,
    long_titles,
    long_section,
    hostile_links,
    line_endings,
    bad_dates,
    duplicates,
)


def corpus(
    seed: int = 9, builders: tuple[Callable[[random.Random], HostileDump], ...] = BUILDERS
) -> Iterator[HostileDump]:
    for index, build in enumerate(builders):
        yield build(random.Random(seed * 1000 + index))
