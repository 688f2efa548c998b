"""The dump parser on the quirks the spec lists, each with exact expected values."""

from datetime import date

import pytest

from feeds.dumps.dumpparse import parse_dump
from feeds.errors import Problem

LINK = "https://www.gov.kz/memleket/entities/mfa/press/news/details/{}?lang=kk"


def test_crlf_bom_blank_lines_and_stray_whitespace() -> None:
    text = (
        "\ufeff\r\n  News \r\n\r\n"
        "  First  title\t 10.01.2026  \r\n"
        "First line.\r\n\r\n   Second   line.Source : " + LINK.format(1) + "\r\n"
        "Second title 09.01.2026\r\rBody two.\r"
    )
    result = parse_dump(text, "d.txt")
    assert result.section == "News"
    assert result.problems == []
    first, second = result.items
    assert (first.line, first.title, first.day) == (4, "First title", date(2026, 1, 10))
    assert first.body == "First line.\nSecond line."
    assert first.link and (first.link.agency, first.link.id, first.link.kind) == (
        "mfa",
        "1",
        "press/news",
    )
    assert (second.line, second.title, second.body, second.link) == (
        8,
        "Second title",
        "Body two.",
        None,
    )
    assert [first.position, second.position] == [0, 1]


def test_body_that_is_only_a_source_line() -> None:
    text = "News\nA title 09.01.2026\nSource : " + LINK.format(1139110)
    (item,) = parse_dump(text, "d.txt").items
    assert item.body == ""
    assert item.link and item.link.url == LINK.format(1139110)


def test_other_source_glued_before_the_govkz_link() -> None:
    text = (
        "World\nTitle 20.12.2025\nText end. Source: https://top-news.kz/slyshashhee/"
        "Source : " + LINK.format(1129425)
    )
    (item,) = parse_dump(text, "d.txt").items
    assert item.body == "Text end."
    assert item.other_sources == ("https://top-news.kz/slyshashhee/",)
    assert item.link and item.link.id == "1129425"


def test_other_govkz_link_kinds_and_languages() -> None:
    text = (
        "News\n"
        "Article 01.02.2026\nText.Source : https://gov.kz/memleket/entities/Edu/press/article/details/77?lang=ru.\n"
        "Document 01.02.2026\nSource : http://www.gov.kz/memleket/entities/kgd/documents/details/88\n"
    )
    article, document = parse_dump(text, "d.txt").items
    assert article.link and (
        article.link.agency,
        article.link.kind,
        article.link.id,
        article.link.lang,
    ) == ("edu", "press/article", "77", "ru")
    assert (
        article.link.url == "https://gov.kz/memleket/entities/Edu/press/article/details/77?lang=ru"
    )
    assert document.link and (document.link.kind, document.link.id, document.link.lang) == (
        "documents",
        "88",
        "kk",
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://www.gov.kz:abc/memleket/entities/mfa/press/news/details/1",
        "https://www.gov.kz:99999/memleket/entities/mfa/press/news/details/1",
        "https://[www.gov.kz/memleket/entities/mfa/press/news/details/1",
    ],
)
def test_a_cited_link_urllib_refuses_is_reported_and_the_dump_still_parses(url: str) -> None:
    """urlsplit raises ValueError for these: one such citation stopped the whole dump."""
    text = f"News\nTitle 10.01.2026\nBody.Source : {url}\nNext 09.01.2026\nSecond.\n"
    result = parse_dump(text, "d.txt")
    assert [(i.title, i.body, i.link, i.other_sources) for i in result.items] == [
        ("Title", "Body.", None, (url,)),
        ("Next", "Second.", None, ()),
    ]
    assert result.problems == [
        Problem("d.txt", 2, f"cited link {url} is not a valid URL; kept as a source")
    ]


def test_a_govkz_link_with_its_default_port_is_the_items_link() -> None:
    url = "https://www.gov.kz:443/memleket/entities/mfa/press/news/details/7?lang=en"
    (item,) = parse_dump(f"News\nTitle 10.01.2026\nBody.Source : {url}\n", "d.txt").items
    assert item.link and (item.link.agency, item.link.id) == ("mfa", "7")


def test_a_link_in_angle_brackets_is_cited() -> None:
    """ "Source : <https://...>", as mail and Markdown write a link."""
    text = (
        "News\nTitle 10.01.2026\nBody.Source : <https://www.gov.kz/memleket/entities/mfa/press/"
        "news/details/7?lang=en>\nNext 09.01.2026.\nSecond.\n"
    )
    result = parse_dump(text, "d.txt")
    first, second = result.items
    assert (first.body, first.link and first.link.id, first.other_sources) == ("Body.", "7", ())
    assert (second.title, second.body) == ("Next", "Second.")  # a title is due after it


def test_govkz_link_without_an_id_is_kept_as_a_source_and_reported() -> None:
    text = "News\nTitle 01.02.2026\nText.Source : https://www.gov.kz/memleket/entities/mfa?lang=en"
    result = parse_dump(text, "d.txt")
    (item,) = result.items
    assert item.link is None
    assert item.other_sources == ("https://www.gov.kz/memleket/entities/mfa?lang=en",)
    assert result.problems == [
        Problem(
            "d.txt",
            2,
            "gov.kz link https://www.gov.kz/memleket/entities/mfa?lang=en names no agency "
            "and id; kept as a source",
        )
    ]


def test_control_characters_are_removed_and_reported() -> None:
    text = "News\nTi\x00tle\x07 01.02.2026\nBo\x1bdy\u202e text\x7f.\n"
    result = parse_dump(text, "d.txt")
    (item,) = result.items
    assert (item.title, item.body) == ("Title", "Body text.")
    assert result.problems == [
        Problem("d.txt", 2, "removed 2 control or invisible character(s)"),
        Problem("d.txt", 3, "removed 3 control or invisible character(s)"),
    ]


def test_soft_hyphens_joiners_and_direction_marks_do_not_make_another_release() -> None:
    """Invisible in a feed reader, they made "Maji\u00adlis" another title than "Majilis",
    so another release (a duplicate entry) when a scraper copied the page's &shy;."""
    plain = "News\nA Majilis deputy met voters 10.01.2026\nThe deputy met voters.\n"
    marked = (
        "News\nA Maji\u00adlis de\u200dputy\u2060 met\u200e voters\u200f 10.01.2026\n"
        "The dep&shy;uty met voters.\n"
    )
    clean, dirty = parse_dump(plain, "d.txt"), parse_dump(marked, "d.txt")
    assert dirty.items == clean.items
    assert dirty.problems == [
        Problem("d.txt", 2, "removed 5 control or invisible character(s)"),
        Problem("d.txt", 3, "removed 1 control or invisible character(s)"),
    ]


def test_a_next_line_character_is_a_space() -> None:
    (item,) = parse_dump("News\nA deputy held\u0085a meeting 10.01.2026\nBody.\n", "d.txt").items
    assert item.title == "A deputy held a meeting"


def test_impossible_date_skips_that_item_only() -> None:
    text = "News\nGood one 01.02.2026\nBody one.\nBad one 31.02.2026\nBody bad.\nGood two 02.02.2026\nBody two."
    result = parse_dump(text, "d.txt")
    assert [(i.title, i.body) for i in result.items] == [
        ("Good one", "Body one."),
        ("Good two", "Body two."),
    ]
    assert result.problems == [
        Problem(
            "d.txt",
            4,
            "title date 31.02.2026 is not a real date (day is out of range for month); item skipped",
        )
    ]


def test_year_out_of_range_and_date_without_title() -> None:
    text = "News\nOld 01.02.1900\nx\n01.02.2026\ny\nFine 01.02.2026\nz"
    result = parse_dump(text, "d.txt")
    assert [i.title for i in result.items] == ["Fine"]
    assert [str(p) for p in result.problems] == [
        "d.txt:2: title date 01.02.1900 is not a real date (year 1900 is outside 1991-2100); item skipped",
        "d.txt:4: date 01.02.2026 without a title; item skipped",
    ]


def test_dates_inside_titles_use_the_last_one() -> None:
    text = "News\nCelebration on 7.01.2026 in the chapel. 09.01.2026\nBody.\nDecember 13 – Day 20.12.2025\n"
    first, second = parse_dump(text, "d.txt").items
    assert (first.title, first.day) == ("Celebration on 7.01.2026 in the chapel.", date(2026, 1, 9))
    assert (second.title, second.day) == ("December 13 – Day", date(2025, 12, 20))


def test_body_line_ending_in_a_date_after_a_citation_is_not_a_title() -> None:
    text = "News\nTitle 01.02.2026\nText.Source : " + LINK.format(5) + " 01.02.2026"
    result = parse_dump(text, "d.txt")
    assert len(result.items) == 1


def test_no_section_line_and_text_before_the_first_title() -> None:
    no_section = parse_dump("Title 01.02.2026\nBody.", "a.txt")
    assert no_section.section is None
    assert [i.title for i in no_section.items] == ["Title"]
    assert no_section.problems == [Problem("a.txt", 1, "no section line before the first title")]
    stray = parse_dump("News\nstray text\nmore\nTitle 01.02.2026\nBody.", "b.txt")
    assert [i.title for i in stray.items] == ["Title"]
    assert stray.problems == [
        Problem("b.txt", 2, "text before the first title line is not part of any item")
    ]


def test_cyrillic_lookalikes_inside_latin_words_are_fixed() -> None:
    text = "News\nРreventive operation 20.12.2025\nThe Кazakh NҚ code; Кostanaй stays.\n"
    (item,) = parse_dump(text, "d.txt").items
    assert item.title == "Preventive operation"
    assert item.body == "The Kazakh NҚ code; Кostanaй stays."


def test_glued_sentences_become_paragraphs() -> None:
    text = (
        "News\nT 01.02.2026\n"
        "Traditionally summed up.As is known, the U.S. ambassador.“We had talks,” he said.In 2025, 2.7 kg were"
        " seized.Source : " + LINK.format(9)
    )
    (item,) = parse_dump(text, "d.txt").items
    assert item.paragraphs == [
        "Traditionally summed up.",
        "As is known, the U.S. ambassador.",
        "“We had talks,” he said.",
        "In 2025, 2.7 kg were seized.",
    ]


def test_section_only_and_empty_dump() -> None:
    empty = parse_dump(" \n\r\n", "e.txt")
    assert (empty.section, empty.items) == (None, [])
    assert empty.problems == [Problem("e.txt", None, "the dump is empty: no section, no item")]
    only = parse_dump("World\n\n", "w.txt")
    assert (only.section, only.items, only.problems) == ("World", [], [])


def test_title_lines_without_bodies() -> None:
    result = parse_dump("News\nOne 01.02.2026\nTwo 01.02.2026\nThree 31.01.2026", "t.txt")
    assert [(i.title, i.body, i.line) for i in result.items] == [
        ("One", "", 2),
        ("Two", "", 3),
        ("Three", "", 4),
    ]


def test_dates_without_leading_zeros_start_items() -> None:
    """A scraper that writes 5.1.2026: each such line is a title, not the previous body's end."""
    text = "News\nFirst 10.01.2026\nOne.\nSecond 5.1.2026\nTwo.\nThird 9.12.2025\nThree.\nBad 31.2.2026\nLost."
    result = parse_dump(text, "d.txt")
    assert [(i.line, i.title, i.day, i.body) for i in result.items] == [
        (2, "First", date(2026, 1, 10), "One."),
        (4, "Second", date(2026, 1, 5), "Two."),
        (6, "Third", date(2025, 12, 9), "Three."),
    ]
    assert result.problems == [
        Problem(
            "d.txt",
            8,
            "title date 31.2.2026 is not a real date (day is out of range for month); item skipped",
        )
    ]


def test_html_character_references_are_decoded_once() -> None:
    """Scrapers copy "&amp;", "&#171;" and "&nbsp;" from the page's HTML; they mean characters.
    An ampersand not ending in ";" is text ("R&D", a URL's "&notify=1"), and a decoded
    control or bidirectional character is removed like any other."""
    text = (
        "News\n"
        "Tax &amp; customs &#171;reform&#187; 10.01.2026\n"
        "R&D&nbsp;centre, &amp;amp; stays &amp;, &#x202E;gone.Source : "
        "https://www.gov.kz/memleket/entities/mfa/press/news/details/7?lang=en&amp;x=1\n"
        "Other 09.01.2026\n"
        "See https://example.kz/?a=1&notify=2&para=3 now."
    )
    result = parse_dump(text, "d.txt")
    first, second = result.items
    assert first.title == "Tax & customs «reform»"
    assert first.body == "R&D centre, &amp; stays &, gone."
    assert first.link and first.link.url.endswith("/details/7?lang=en&x=1")
    assert second.body == "See https://example.kz/?a=1&notify=2&para=3 now."
    assert result.problems == [Problem("d.txt", 3, "removed 1 control or invisible character(s)")]


def test_a_line_ending_in_a_date_of_another_form_is_body_text_and_reported() -> None:
    """ "Принят 10.01.2026 г." may end a body as well as be a title written differently: the
    format decides (body text), and the line is reported so nothing is glued silently."""
    text = (
        "News\nFirst 10.01.2026\nOne.\n"
        "Second 10.01.2026 г.\nTwo (09.01.2026)\nThird 2026-01-08\nFourth 8/1/2026\n"
        "The decree of 10.01.2026 was signed.\n" + "Long " * 70 + "09.01.2026 г."
    )
    result = parse_dump(text, "d.txt")
    (item,) = result.items
    assert item.body.split("\n")[1:5] == [
        "Second 10.01.2026 г.",
        "Two (09.01.2026)",
        "Third 2026-01-08",
        "Fourth 8/1/2026",
    ]
    assert [(p.line, p.message) for p in result.problems] == [
        (
            4,
            "line ends with a date not written DD.MM.YYYY (10.01.2026); read as body text, not as a new item",
        ),
        (
            5,
            "line ends with a date not written DD.MM.YYYY (09.01.2026); read as body text, not as a new item",
        ),
        (
            6,
            "line ends with a date not written DD.MM.YYYY (2026-01-08); read as body text, not as a new item",
        ),
        (
            7,
            "line ends with a date not written DD.MM.YYYY (8/1/2026); read as body text, not as a new item",
        ),
    ]


def _cite(agency: str, id: int) -> str:
    return f"Source : https://www.gov.kz/memleket/entities/{agency}/press/news/details/{id}?lang=kk"


@pytest.mark.parametrize(
    ("title_line", "stamp"),
    [
        ("U.S. Ambassador presented credentials 10.01.2026 14:30", "10.01.2026 14:30"),
        ("U.S. Ambassador presented credentials 10.01.2026.", "10.01.2026."),
        ("U.S. Ambassador presented credentials10.01.2026", "10.01.2026"),
        ("U.S. Ambassador presented credentials (10.01.2026)", "(10.01.2026)"),
        ("U.S. Ambassador presented credentials 10.01.2026 г.", "10.01.2026 г."),
        ("U.S. Ambassador presented credentials 2026-01-10", "2026-01-10"),
        ("U.S. Ambassador presented credentials 10/01/2026, 09:05:00", "10/01/2026, 09:05:00"),
    ],
)
def test_after_a_source_line_a_title_with_its_date_written_otherwise_starts_the_next_item(
    title_line: str, stamp: str
) -> None:
    """It used to be glued to the item before: that item's body held both releases, and the
    second release was lost without a word."""
    text = (
        f"News\nGuardsmen detained offenders 10.01.2026\nThe guard marks its day.{_cite('kvv', 1)}\n"
        f"{title_line}\nAkorda hosted the ceremony.{_cite('mfa-washington', 2)}\n"
        "Zoo collects trees 09.01.2026\nThe zoo asks for trees.\n"
    )
    result = parse_dump(text, "d.txt")
    assert [(i.line, i.title, i.day, i.body, i.link and i.link.id) for i in result.items] == [
        (2, "Guardsmen detained offenders", date(2026, 1, 10), "The guard marks its day.", "1"),
        (4, "U.S. Ambassador presented credentials", date(2026, 1, 10), "Akorda hosted the ceremony.", "2"),
        (6, "Zoo collects trees", date(2026, 1, 9), "The zoo asks for trees.", None),
    ]  # fmt: skip
    assert result.problems == [
        Problem(
            "d.txt",
            4,
            f"title line's date not written DD.MM.YYYY ({stamp}); read as the next item's title, "
            "as it follows a Source line",
        )
    ]


def test_such_a_line_after_a_body_without_a_source_line_is_body_text_and_reported() -> None:
    text = (
        "News\nA deputy met students 10.01.2026\nThey discussed grants.\n"
        "Guardsmen detained offenders 10.01.2026 14:30\nThe guard marks its day.\n"
        "Guardsmen detained more offenders10.01.2026\nThe hearing opens at 10.01.2026.\n"
    )
    result = parse_dump(text, "d.txt")
    (item,) = result.items
    assert item.body.split("\n")[1:] == [
        "Guardsmen detained offenders 10.01.2026 14:30",
        "The guard marks its day.",
        "Guardsmen detained more offenders10.01.2026",
        "The hearing opens at 10.01.2026.",
    ]
    told = "; read as body text, not as a new item"
    assert result.problems == [
        Problem(
            "d.txt", 4, f"line ends with a date not written DD.MM.YYYY (10.01.2026 14:30){told}"
        ),
        Problem("d.txt", 6, f"line ends with a date not written DD.MM.YYYY (10.01.2026){told}"),
    ]


def test_text_after_a_source_line_that_starts_no_item_is_told() -> None:
    """A title line without its date, a cut line or a second dump glued on: kept in the item
    before (there is no date to make an item of), and reported once for that item."""
    text = (
        f"News\nGuardsmen detained offenders 10.01.2026\nThe guard marks its day.{_cite('kvv', 1)}\n"
        "U.S. Ambassador presented credentials\nAkorda hosted the ceremony.\n"
        f"Other 09.01.2026\nBody.{_cite('mfa', 3)}\nSource: https://top-news.kz/a\n"
    )
    result = parse_dump(text, "d.txt")
    assert [(i.line, i.body) for i in result.items] == [
        (2, "The guard marks its day.\nU.S. Ambassador presented credentials\nAkorda hosted the ceremony."),
        (6, "Body."),
    ]  # fmt: skip
    assert result.problems == [
        Problem(
            "d.txt",
            4,
            "text after the Source line of the item at line 2 (a title line without its "
            "date?); kept as body text of that item",
        )
    ]


def test_a_title_line_written_twice_is_read_once() -> None:
    text = f"News\nAmbassador presented credentials 10.01.2026\nAmbassador presented  credentials 10.01.2026\nAkorda.{_cite('mfa', 2)}\n"
    result = parse_dump(text, "d.txt")
    assert [(i.line, i.title, i.body) for i in result.items] == [
        (2, "Ambassador presented credentials", "Akorda.")
    ]
    assert result.problems == [Problem("d.txt", 3, "the title line of line 2 again; read once")]
