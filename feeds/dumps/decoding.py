"""Pure decoding of a dump's bytes to text, reporting what was not clean UTF-8."""

import codecs
import re

from charset_normalizer import from_bytes

from feeds.dumps import legacy
from feeds.errors import Problem

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_dump(data: bytes, source: str) -> tuple[str, list[Problem]]:
    """Text of a dump. UTF-8 (with or without BOM) and UTF-16/32 with a BOM are read as such;
    UTF-8 with a few bad bytes, or with lines of another encoding, keeps its good text and
    names each other line; anything else is another encoding (`feeds.dumps.legacy`), reported."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace"), []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    parts = _LINE_ENDS.split(data)  # lines at even places, their ends at odd ones
    if _mostly_utf8(data, parts[::2]):
        return _utf8_with_bad_bytes(parts, source)
    return _other_encoding(data, source)


STRAY_BYTES = 3  # this few bad bytes in otherwise ASCII text are damage, not an encoding
_LINE_ENDS = re.compile(rb"(\r\n|\r|\n)")


def _mostly_utf8(data: bytes, lines: list[bytes]) -> bool:
    """True when the undecodable bytes are few, or valid multi-byte UTF-8 outnumbers them, or
    there is a line of good UTF-8 beyond ASCII for every four bad lines: a mostly English
    UTF-8 dump with another scraper's cp1251 items holds few such characters, but whole lines
    of them (in a cp1251 dump, a line that happens to be valid UTF-8 is rare)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad <= STRAY_BYTES or len(text) - len(text.encode("ascii", "ignore")) - bad >= bad:
        return True
    good_lines = bad_lines = 0
    for raw in lines:
        if raw.isascii():
            continue
        try:
            raw.decode("utf-8")
            good_lines += 1
        except UnicodeDecodeError:
            bad_lines += 1
    return good_lines * 4 >= bad_lines


def _utf8_with_bad_bytes(parts: list[bytes], source: str) -> tuple[str, list[Problem]]:
    """Each line as UTF-8; a line that is not is either UTF-8 with damaged bytes (it holds
    good UTF-8 too, or its bytes read as no words: U+FFFD for the bad bytes) or a line in a
    legacy encoding appended by another scraper (read as that encoding). Each line is
    decoded as UTF-8 once."""
    # The line ends at the odd places now, the lines below.
    text = [raw.decode("ascii") if index % 2 else "" for index, raw in enumerate(parts)]
    bad: list[tuple[int, int]] = []  # (place, first bad byte) of each line that is not UTF-8
    for index in range(0, len(parts), 2):
        try:
            text[index] = parts[index].decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append((index, exc.start))
    foreign = {index for index, _ in bad if _no_good_utf8(parts[index])}
    joined = b"\n".join(parts[index] for index in sorted(foreign))
    encoding = legacy.best_encoding(joined)[0] if foreign else None
    problems: list[Problem] = []
    for index, bad_at in bad:
        raw = parts[index]
        read = raw.decode(encoding, "replace") if encoding and index in foreign else None
        if read is not None and legacy.reads_as_words(read):
            text[index] = read
            message = f"not UTF-8; read as {encoding} (guessed), please write dumps in UTF-8"
        else:
            text[index] = raw.decode("utf-8", errors="replace")
            message = (
                f"undecodable byte 0x{raw[bad_at]:02x} at byte {bad_at + 1} of the line "
                "(not UTF-8); replaced by U+FFFD"
            )
        problems.append(Problem(source, index // 2 + 1, message))
    return "".join(text), problems


def _no_good_utf8(raw: bytes) -> bool:
    """Of a line that is not UTF-8: whether no good UTF-8 beyond ASCII is in it either (a
    UTF-8 line with a damaged byte has some)."""
    text = raw.decode("utf-8", errors="replace")
    return len(text) - len(text.encode("ascii", "ignore")) == text.count("\ufffd")


def _other_encoding(data: bytes, source: str) -> tuple[str, list[Problem]]:
    """The dump in the legacy encoding it reads best in; else charset-normalizer's guess
    (UTF-16 without a BOM); else that best legacy one, if its text holds more expected than
    unexpected characters; else UTF-8 with U+FFFD."""
    encoding, plausible = legacy.best_encoding(data)
    if not plausible:
        guess = from_bytes(data).best()
        if guess is not None:
            return str(guess), [_read_as(source, guess.encoding, 0)]
        if not legacy.more_expected(data, encoding):
            text = data.decode("utf-8", errors="replace")
            message = "not text in any known encoding; bad bytes replaced by U+FFFD"
            return text, [Problem(source, None, message)]
    text = data.decode(encoding, errors="replace")  # cp1251 has no 0x98, cp1252 no 0x81...
    return text, [_read_as(source, encoding, text.count("\ufffd"))]


def _read_as(source: str, encoding: str, replaced: int) -> Problem:
    message = f"not UTF-8; read as {encoding} (guessed), please write dumps in UTF-8"
    if replaced:
        message += f"; {replaced} byte(s) that {encoding} has no character for replaced by U+FFFD"
    return Problem(source, None, message)
