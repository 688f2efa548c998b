"""Pure, cheap pass over a dump's UTF-8 bytes: where its items start, and a fingerprint of
each item's raw bytes (issue 18).

A dump is cut into *segments*: its head (the lines before the first title line: the section
line and any stray text), then one segment per title line, up to the next one. The parser's
state does not cross a title line, so parsing one segment alone (`dumpparse.parse_lines`
from its title line, the section known) gives exactly what parsing the whole dump gives for
that item; an ingest therefore parses only the segments whose fingerprint it has not seen.

Lines are cut on CRLF, CR and LF, as `dumpparse.split_lines` does; the input is bytes that
decode as UTF-8 (`feeds.ingest` decodes any other dump first), read chunk by chunk so that a
dump is never held whole.
"""

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from feeds.dumps.dumpparse import (
    ENDS_BODY,
    ENDS_BODY_AFTER,
    ENDS_BODY_BEFORE,
    LOOSE_TAIL_CHARS,
    MAX_LOOSE_RAW_CHARS,
    clean_line,
    is_loose_title_line,
    is_title_line,
)

# Text decoded from another encoding may hold lone surrogates; they pass through the bytes
# (the parser removes them, and reports it, as it always did).
UTF8_ERRORS = "surrogatepass"
_BREAK = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"
# A title line ends, once cleaned, in a digit. Before cleaning it ends (trailing ASCII blanks
# aside) in a digit, a ";" (a reference such as "&#57;"), a control character (removed) or
# a non-ASCII one (a Unicode digit or blank, or an invisible character removed by cleaning).
# Only such lines need the parser's own, exact and slower, test.
_MAY_END_A_TITLE = frozenset(b"0123456789;\x7f" + bytes(range(32)) + bytes(range(128, 256)))
_ASCII_BLANKS = b" \t\x0b\x0c"


# No slots: a frozen dataclass with slots pickles through `dataclasses.fields` per object,
# 1.4 times as slow to send to the parsing processes and back (measured: 14 vs 10 µs an item).
@dataclass(frozen=True)
class Segment:
    line: int  # 1-based line of its first line (an item's title line)
    raw: bytes  # its lines joined by b"\n" (so line endings do not change its fingerprint)
    count: int  # number of lines
    head: bool = False  # the dump's head: the lines before the first title line
    items_follow: bool = False  # (head only) a title line follows it

    def lines(self) -> list[str]:
        return self.raw.decode("utf-8", UTF8_ERRORS).split("\n") if self.count else []


def lines_of(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a dump given in chunks (its BOMs removed, see `without_boms`), without
    their line ends."""
    carry, after_cr = b"", False
    for chunk in chunks:
        if after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the second half of a "\r\n" cut by the chunks
        data = carry + chunk
        # bytes.split is several times faster than the pattern; most dumps have no CR.
        parts = _BREAK.split(data) if b"\r" in data else data.split(b"\n")
        carry = parts.pop()
        after_cr = not carry and data.endswith(b"\r")
        yield from parts
    yield carry


def without_boms(start: bytes) -> bytes:
    """A raw UTF-8 dump's start without its BOM, and a second BOM right after it: the old
    whole-text path removed one in `decode_dump` and one in `split_lines`."""
    return start[3:].removeprefix(_BOM) if start.startswith(_BOM) else start


_ENDS_BODY = re.compile(ENDS_BODY.encode())
# `dumpparse.ends_body`'s reach in bytes: its only letters that are not ASCII are the
# Cyrillic labels' (8 letters of 2 bytes at most).
_BEFORE, _AFTER = ENDS_BODY_BEFORE + 8, ENDS_BODY_AFTER


def _ends_body(raw: bytes) -> bool:
    """`dumpparse.ends_body` of the decoded line, on its bytes: no line is decoded."""
    found = raw.rfind(b"://")
    while found != -1:
        if _ENDS_BODY.search(raw, max(0, found - _BEFORE), found + _AFTER):
            return True
        found = raw.rfind(b"://", 0, found)
    return False


def _may_be_title(raw: bytes) -> bool:
    end = raw.rstrip(_ASCII_BLANKS)[-1:]
    if not end or end[0] not in _MAY_END_A_TITLE:
        return False  # most lines: no decoding, no regular expression
    return is_title_line(raw.decode("utf-8", UTF8_ERRORS))


def segments(lines: Iterable[bytes]) -> Iterator[Segment]:
    """The dump's head, then one segment per title line, in the dump's order: where the
    parser starts an item (`dumpparse.parse_lines`), by its rules. A title line in its usual
    form starts one anywhere; after a body's gov.kz Source line, one whose date is written
    otherwise; never the title line just read, again (the parser reads it once)."""
    start, held = 1, []
    head = True
    number = 0
    ended = False  # a gov.kz Source line was read since the last title
    heading: bytes | None = None  # the segment's title line, while only its repeats followed
    for number, raw in enumerate(lines, start=1):
        cut = bool(raw) and (_may_be_title(raw) or (ended and _may_be_loose_title(raw)))
        if cut and heading is not None and _same_line(raw, heading):
            held.append(raw)  # the parser reports the repeat and keeps reading this item
        elif cut:
            yield Segment(start, b"\n".join(held), len(held), head=head, items_follow=head)
            start, held, head, ended, heading = number, [raw], False, False, raw
        else:
            held.append(raw)
            heading = None
            ended = ended or _ends_body(raw)
    if number:
        yield Segment(start, b"\n".join(held), len(held), head=head)


_DIGIT_OR_NOT_ASCII = re.compile(rb"[0-9\x80-\xff]")


def _may_be_loose_title(raw: bytes) -> bool:
    """`dumpparse.is_loose_title_line` of the decoded line. A character is 1 to 4 bytes:
    a line of over 4 bytes a character allowed, or whose last characters' bytes hold no
    digit and nothing beyond ASCII (where a Unicode digit would be), is not decoded."""
    if len(raw) > 4 * MAX_LOOSE_RAW_CHARS:
        return False
    if not _DIGIT_OR_NOT_ASCII.search(raw, max(0, len(raw) - 4 * LOOSE_TAIL_CHARS)):
        return False
    return is_loose_title_line(raw.decode("utf-8", UTF8_ERRORS))


def _same_line(raw: bytes, other: bytes) -> bool:
    """Whether two raw lines are the same line to the parser, once cleaned."""
    decoded = raw.decode("utf-8", UTF8_ERRORS), other.decode("utf-8", UTF8_ERRORS)
    return clean_line(decoded[0]) == clean_line(decoded[1])


class Fingerprints:
    """What an item's parse depends on, hashed: its bytes, the dump's section (every item
    carries it), whether a section line came before it (the first item of a dump without one
    is reported) and the parser's code (`salt`); BLAKE2b of 128 bits, so two never collide.
    The hash of what is common to a dump's segments is made once and copied for each."""

    def __init__(self, salt: bytes, section: str | None) -> None:
        context = "\x00" if section is None else "\x01" + section
        self._start = {
            after: hashlib.blake2b(salt + f"{context}\x00{after:d}\x00".encode(), digest_size=16)
            for after in (False, True)
        }

    def of(self, segment: Segment, after_section: bool) -> str:
        digest = self._start[after_section].copy()
        digest.update(segment.raw)
        return digest.hexdigest()
