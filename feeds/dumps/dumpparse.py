"""Pure parser of news dumps: text in, section, items and problems out (SPEC section 2).

A dump is a section line, then items: a title line ending in whitespace and `DD.MM.YYYY`,
then body lines up to the next title line. Nothing here raises on bad data: every oddity
becomes a `Problem` naming the line, and the items around it are kept.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from feeds.errors import Problem
from feeds.text.links import (
    HAS_CITATION,
    GovkzLink,
    extract_citations,
    is_govkz_url,
    is_valid_url,
    parse_govkz_link,
)
from feeds.text.textclean import (
    collapse_spaces,
    decode_references,
    fix_lookalikes,
    paragraphs,
    remove_unsafe_chars,
)

# DD.MM.YYYY, and D.M.YYYY from a scraper that drops leading zeros: a title line whose date
# did not match used to be glued, silently, to the previous item's body.
_DATE = r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})"
_TITLE_LINE = re.compile(rf"^(?P<title>.*?)\s+(?P<stamp>{_DATE})$")
_DATE_ONLY = re.compile(rf"^(?P<stamp>{_DATE})$")
# A short line ending in a date of another form ("10.01.2026 г.", "(09.01.2026)",
# "2026-01-08", "10/01/2026") may be a title a scraper wrote differently, or a body's last
# words: it is read as body text, as the format says, and reported so it is not silent.
# So is a date glued to the title's last word ("Offenders10.01.2026") or followed by a time
# ("10.01.2026 14:30"); not one followed by a full stop, which ends many a body's sentence.
_OTHER_DATE_END = re.compile(
    r"(?:\s[(\[]?(?P<stamp>\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d{4}-\d{2}-\d{2})[)\]]?"
    r"(?:\s*(?:г|ж|y)\.?)?"
    r"|(?<=[^\W\d_])(?P<glued>\d{1,2}\.\d{1,2}\.\d{4})"
    r"|\s(?P<timed>\d{1,2}\.\d{1,2}\.\d{4},?\s\d{1,2}:\d{2}(?::\d{2})?))$"
)
MAX_TITLE_LIKE_CHARS = 300
# After a line citing a gov.kz page (`Source : https://www.gov.kz/...`, a body's end) the
# next item's title is due: there a line whose date is written otherwise (with a time, a
# final stop, glued to the title, "г.", in brackets, ISO, with slashes) starts that item,
# reported; anywhere else it is body text, reported (a body may end in such a date). Left
# as body text after a Source line, it merged an item into the one before, silently.
_LOOSE_DATE = (
    r"(?:(?P<day>\d{1,2})[./-](?P<month>\d{1,2})[./-](?P<year>\d{4})"
    r"|(?P<iyear>\d{4})-(?P<imonth>\d{2})-(?P<iday>\d{2}))"
)
_LOOSE_END = re.compile(
    rf"\s*[(\[]?{_LOOSE_DATE}[)\]]?(?:\s*(?:г|ж|y)\.?)?(?:,?\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?[.,;]?$"
)
_LOOSE_END_CHARS = 40
MAX_LOOSE_TITLE_CHARS = 1_000
# The label, a colon and the scheme before a "://", then a gov.kz host. Spelled so that it
# reads the same on bytes (feeds.dumps.dumpsplit) and on text: ASCII blanks, a bounded number of
# them, the Cyrillic labels in their three usual cases.
ENDS_BODY = (
    r"(?:(?i:source)|Источник|ИСТОЧНИК|источник|Дереккөз|ДЕРЕККӨЗ|дереккөз)"
    r"[ \t]{0,4}:[ \t]{0,4}<?(?i:https?://(?:www\.)?gov\.kz/)"
)
# Its reach around the "://", in characters: "Дереккөз", 4 blanks, ":", 4 blanks, "<",
# "https" before; "www.gov.kz/" after.
ENDS_BODY_BEFORE, ENDS_BODY_AFTER = 8 + 4 + 1 + 4 + 1 + 5, 3 + 11
# ASCII: on text, a case-insensitive "s" also matches "ſ" (U+017F) and "k" the Kelvin sign,
# which the bytes pattern cannot; the two must say the same of every line.
_ENDS_BODY = re.compile(ENDS_BODY, re.ASCII)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
MIN_YEAR, MAX_YEAR = 1991, 2100  # gov.kz cannot publish before Kazakhstan's independence
# Far above any real press release (the samples' longest line has 9,600 characters), low
# enough that one hostile line cannot make every feed page holding it megabytes long.
MAX_TITLE_CHARS, MAX_BODY_CHARS = 10_000, 100_000


@dataclass(frozen=True)
class ParsedItem:
    line: int  # 1-based line of the title
    position: int  # 0-based order in the dump (newest first)
    title: str
    day: date
    body: str  # cleaned lines joined by "\n", citations removed
    link: GovkzLink | None
    other_sources: tuple[str, ...]
    section: str | None

    @property
    def paragraphs(self) -> list[str]:
        return paragraphs(self.body)


@dataclass
class ParseResult:
    source: str
    section: str | None = None
    items: list[ParsedItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Block:
    line: int
    title: str
    day: date
    heading: str = ""  # its cleaned title line: the same line right after it is a repeat
    body: list[str] = field(default_factory=list)
    told_after_source: bool = False  # text after its Source line was reported


def split_lines(text: str) -> list[str]:
    """Lines as an editor numbers them: CRLF, CR and LF all end a line."""
    return _LINE_BREAK.split(text.removeprefix("\ufeff"))


def _clean_lines(
    lines: list[str], result: ParseResult, start: int = 1
) -> Iterator[tuple[int, str, str]]:
    for number, raw in enumerate(lines, start=start):
        line, removed = _cleaned(raw)
        if removed:
            result.problems.append(
                Problem(
                    result.source, number, f"removed {removed} control or invisible character(s)"
                )
            )
        yield number, raw, line


def _cleaned(raw: str) -> tuple[str, int]:
    """A raw line as the parser reads it, and the number of characters cleaning removed."""
    if raw.isprintable() and "&" not in raw:
        # Most lines: every removed character and every blank but the space is unprintable,
        # so one C pass says there is nothing to remove (a pattern over the whole line) and
        # no blank to collapse but spaces (a split and join of the line: 22 µs an item).
        if "  " in raw or raw[:1] == " " or raw[-1:] == " ":
            return " ".join(raw.split()), 0
        return raw, 0
    # References first: "&#8238;" decodes to a character that must then be removed.
    text, removed = remove_unsafe_chars(decode_references(raw))
    return collapse_spaces(text), removed


def _title_date(line: str) -> tuple[str, re.Match[str]] | None:
    """(title, date match) when the line is a title line, else None."""
    if not line[-1:].isdigit():
        return None  # most lines: no regular expression needed
    match = _TITLE_LINE.match(line) or _DATE_ONLY.match(line)
    if not match or _has_citation(line):
        return None  # a body's last line may end with a date after its citation
    return match.groupdict().get("title") or "", match


def _has_citation(line: str) -> bool:
    return "://" in line and HAS_CITATION.search(line) is not None  # no URL: no citation


def ends_body(raw: str) -> bool:
    """Whether a raw line (before cleaning) cites a gov.kz page: the end of an item's body.
    Only around each "://": a search of the whole line would cost every item's body."""
    found = raw.rfind("://")  # from the end: the item's own link is last
    while found != -1:
        if _ENDS_BODY.search(raw, max(0, found - ENDS_BODY_BEFORE), found + ENDS_BODY_AFTER):
            return True
        found = raw.rfind("://", 0, found)
    return False


def _loose_title(line: str) -> tuple[str, dict[str, str]] | None:
    """(title, date parts) of a cleaned line ending in a date written otherwise than a title
    line's, when it may be a title (a line after a Source line), else None."""
    if len(line) > MAX_LOOSE_TITLE_CHARS or not any(c.isdigit() for c in line[-12:]):
        return None
    match = _LOOSE_END.search(line, max(0, len(line) - _LOOSE_END_CHARS))
    if not match or _has_citation(line):
        return None
    stamp = line[match.start() :].strip()
    if match["day"]:
        parts = {"day": match["day"], "month": match["month"], "year": match["year"]}
    else:
        parts = {"day": match["iday"], "month": match["imonth"], "year": match["iyear"]}
    return line[: match.start()].rstrip(), {"stamp": stamp, **parts}


MAX_LOOSE_RAW_CHARS = 4 * MAX_LOOSE_TITLE_CHARS
LOOSE_TAIL_CHARS = 32  # a date, a time, "г." and blanks after it


def may_be_loose(raw: str) -> bool:
    """A raw line that may be read as a title with its date written otherwise: not too long,
    a digit near its end. Body lines after a Source line cost no cleaning to find they are
    none (the segmenter tests the same on bytes)."""
    if len(raw) > MAX_LOOSE_RAW_CHARS:
        return False
    return any(char.isdigit() for char in raw[-LOOSE_TAIL_CHARS:])


def is_loose_title_line(raw: str) -> bool:
    """True when, after a Source line, the parser starts an item at this raw line though it
    is no title line: `_loose_title(...) is not None` of the cleaned line."""
    return may_be_loose(raw) and _loose_title(clean_line(raw)) is not None


def clean_line(raw: str) -> str:
    """A raw line as the parser reads it."""
    return _cleaned(raw)[0]


def _real_date(match: "re.Match[str] | dict[str, str]") -> date | str:
    """The date, or the reason it is not a real date."""
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        return f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}"
    try:
        return date(year, month, day)
    except ValueError as exc:
        return str(exc)


def parse_dump(text: str, source: str) -> ParseResult:
    """Parse a whole dump. Never raises for bad data; see `ParseResult.problems`."""
    return parse_lines(split_lines(text), source)


# What `_TITLE_LINE.match` finds on a cleaned line (blanks are single spaces there), found
# only in its last characters: a title of a hundred characters costs no lazy scan.
_TITLE_END = re.compile(rf"\s{_DATE}$")
_TITLE_END_CHARS = 11  # " DD.MM.YYYY"


def is_title_line(raw: str) -> bool:
    """True when the parser starts an item (or skips one, for a bad date) at this raw line:
    `_title_date(...) is not None` of the cleaned line, with less work."""
    line = clean_line(raw)
    if not line[-1:].isdigit():
        return False
    end = _TITLE_END.search(line, max(0, len(line) - _TITLE_END_CHARS))
    return bool(end or _DATE_ONLY.match(line)) and not _has_citation(line)


def parse_lines(
    lines: list[str],
    source: str,
    *,
    start: int = 1,
    section: str | None = None,
    after_section: bool = False,
    at_title: bool = False,
    report_empty: bool = True,
) -> ParseResult:
    """Parse lines numbered from `start`. A whole dump starts at 1 with nothing read; one
    item of it (feeds.dumps.dumpsplit) starts `at_title`, its title line, `after_section` with the
    dump's `section` known: parsing it alone gives what parsing the whole dump gives for it.
    A dump's head (its lines before the first title) does not `report_empty` when items
    follow."""
    result = ParseResult(source, section=section)
    block: _Block | None = None
    skipping = False
    seen_content = after_section
    ended = at_title  # a body's Source line was read: the next title is due
    for number, raw, line in _clean_lines(lines, result, start):
        if not line:
            if block:
                block.body.append("")
            continue
        after_source, ended = ended, ended or ends_body(raw)
        title = _title_date(line) or (
            _loose_title(line) if after_source and may_be_loose(raw) else None
        )
        if not seen_content:
            seen_content = True
            if title is None:
                section = fix_lookalikes(line)
                result.section = _cut(section, MAX_TITLE_CHARS, "section", number, result)
                continue
            result.problems.append(
                Problem(source, number, "no section line before the first title")
            )
        if title is not None and block is not None and not block.body and line == block.heading:
            result.problems.append(
                Problem(source, number, f"the title line of line {block.line} again; read once")
            )
        elif title is not None:
            _finish(block, result)
            if isinstance(title[1], dict):
                _report_loose_title(number, title[1]["stamp"], result)
            block = _start_block(number, *title, result)
            skipping, ended = block is None, False
            if block:
                block.heading = line
        elif block:
            block.body.append(line)
            if after_source:
                _report_after_source(number, line, block, result)
            else:
                _report_title_like(number, line, result)
        elif not skipping:
            skipping = True
            result.problems.append(
                Problem(source, number, "text before the first title line is not part of any item")
            )
    _finish(block, result)
    # A failed scrape leaves an empty file: say so, it is not news.
    if not seen_content and report_empty:
        result.problems.append(Problem(source, None, "the dump is empty: no section, no item"))
    return result


def _report_loose_title(number: int, stamp: str, result: ParseResult) -> None:
    result.problems.append(
        Problem(
            result.source,
            number,
            f"title line's date not written DD.MM.YYYY ({stamp}); read as the next item's "
            "title, as it follows a Source line",
        )
    )


def _report_after_source(number: int, line: str, block: _Block, result: ParseResult) -> None:
    """Text after an item's Source line, once an item: a title line without its date, or
    the rest of a dump glued to this one; kept, as body text, and told."""
    if block.told_after_source or _has_citation(line):
        return
    block.told_after_source = True
    result.problems.append(
        Problem(
            result.source,
            number,
            f"text after the Source line of the item at line {block.line} (a title line "
            "without its date?); kept as body text of that item",
        )
    )


def _report_title_like(number: int, line: str, result: ParseResult) -> None:
    if len(line) > MAX_TITLE_LIKE_CHARS or not any(c.isdigit() for c in line[-6:]):
        return  # most lines: no regular expression needed
    # Only the end can hold the date: searching the whole line cost 10% of an ingest.
    match = _OTHER_DATE_END.search(line, max(0, len(line) - 24))
    if match and not HAS_CITATION.search(line):
        result.problems.append(
            Problem(
                result.source,
                number,
                f"line ends with a date not written DD.MM.YYYY ({_stamp_of(match)}); "
                "read as body text, not as a new item",
            )
        )


def _stamp_of(match: re.Match[str]) -> str:
    return match["stamp"] or match["glued"] or match["timed"]


def _start_block(
    number: int, title: str, match: "re.Match[str] | dict[str, str]", result: ParseResult
) -> _Block | None:
    stamp = match["stamp"]
    when = _real_date(match)
    if isinstance(when, str):
        result.problems.append(
            Problem(
                result.source,
                number,
                f"title date {stamp} is not a real date ({when}); item skipped",
            )
        )
        return None
    if not title:
        result.problems.append(
            Problem(result.source, number, f"date {stamp} without a title; item skipped")
        )
        return None
    title = _cut(fix_lookalikes(title), MAX_TITLE_CHARS, "title", number, result)
    return _Block(number, title, when)


def _finish(block: _Block | None, result: ParseResult) -> None:
    if block is None:
        return
    cited = extract_citations(fix_lookalikes("\n".join(block.body)))
    link, others = _pick_link(cited.urls, block.line, result)
    result.items.append(
        ParsedItem(
            line=block.line,
            position=len(result.items),
            title=block.title,
            day=block.day,
            # Cut only now: the citations at the end of a huge body still give the link.
            body=_cut(cited.text, MAX_BODY_CHARS, "body", block.line, result),
            link=link,
            other_sources=others,
            section=result.section,
        )
    )


def _cut(text: str, limit: int, what: str, line: int, result: ParseResult) -> str:
    """The text, or its first `limit` characters with a problem saying so."""
    if len(text) <= limit:
        return text
    result.problems.append(
        Problem(result.source, line, f"{what} of {len(text)} characters cut to {limit}")
    )
    return text[:limit].rstrip()


def _pick_link(
    urls: tuple[str, ...], line: int, result: ParseResult
) -> tuple[GovkzLink | None, tuple[str, ...]]:
    """The first gov.kz entity link is the item's link; every other URL is another source."""
    link: GovkzLink | None = None
    others: list[str] = []
    for url in urls:
        parsed = parse_govkz_link(url) if link is None else None
        if parsed:
            link = parsed
            continue
        others.append(url)
        if not is_valid_url(url):
            result.problems.append(
                Problem(
                    result.source, line, f"cited link {url} is not a valid URL; kept as a source"
                )
            )
        elif link is None and is_govkz_url(url):
            result.problems.append(
                Problem(
                    result.source,
                    line,
                    f"gov.kz link {url} names no agency and id; kept as a source",
                )
            )
    return link, tuple(others)
