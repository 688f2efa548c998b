"""Pure decoding of a dump's bytes to text, reporting what was not clean UTF-8."""

import codecs
import re

from charset_normalizer import from_bytes

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
    UTF-8 with a few bad bytes keeps its good text and names each bad line; anything else is
    another encoding, guessed by charset-normalizer and reported."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace"), []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(data):
        return _utf8_with_bad_bytes(data, source)
    return _other_encoding(data, source)


STRAY_BYTES = 3  # this few bad bytes in otherwise ASCII text are damage, not an encoding


def _mostly_utf8(data: bytes) -> bool:
    """True when valid multi-byte UTF-8 outnumbers the undecodable bytes, or these are few."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for char in text if ord(char) > 127 and char != "\ufffd")
    return good >= bad or bad <= STRAY_BYTES


def _utf8_with_bad_bytes(data: bytes, source: str) -> tuple[str, list[Problem]]:
    """Each line as UTF-8; a line that is not is either UTF-8 with damaged bytes (it holds
    good UTF-8 too, or its bytes read as no plausible text: U+FFFD for the bad bytes) or a
    line in a legacy encoding appended by another scraper (read as that encoding)."""
    problems: list[Problem] = []
    parts = _LINE_ENDS.split(data)  # lines at even places, their ends at odd ones
    legacy = _legacy_encoding([raw for raw in parts[::2] if _is_legacy_line(raw)])
    for index in range(0, len(parts), 2):
        raw, number = parts[index], index // 2 + 1
        try:
            parts[index] = raw.decode("utf-8")
            continue
        except UnicodeDecodeError as exc:
            bad_at = exc.start
        if legacy and _is_legacy_line(raw) and _legacy_words(raw.decode(legacy)):
            parts[index] = raw.decode(legacy)
            message = f"not UTF-8; read as {legacy} (guessed), please write dumps in UTF-8"
        else:
            parts[index] = raw.decode("utf-8", errors="replace")
            message = (
                f"undecodable byte 0x{raw[bad_at]:02x} at byte {bad_at + 1} of the line "
                "(not UTF-8); replaced by U+FFFD"
            )
        problems.append(Problem(source, number, message))
    return "".join(p if isinstance(p, str) else p.decode("ascii") for p in parts), problems


def _other_encoding(data: bytes, source: str) -> tuple[str, list[Problem]]:
    legacy = _legacy_encoding([data])
    if legacy:
        text, encoding = data.decode(legacy), legacy
    else:
        guess = from_bytes(data).best()
        if guess is None:
            text = data.decode("utf-8", errors="replace")
            return text, [
                Problem(
                    source, None, "not text in any known encoding; bad bytes replaced by U+FFFD"
                )
            ]
        text, encoding = str(guess), guess.encoding
    message = f"not UTF-8; read as {encoding} (guessed), please write dumps in UTF-8"
    return text, [Problem(source, None, message)]


# -- legacy encodings ---------------------------------------------------------------------
# gov.kz publishes in Kazakh, Russian and English, so a dump that is not UTF-8 is in one of
# the encodings those were written in before it. charset-normalizer guesses among every
# encoding by generic models: on a mostly English dump with a few Cyrillic words or curly
# quotes it chose cp850 or cp1250 (measured on the samples in cp1251), garbling every quote
# and every Russian title. Here the choice is among these, by what a gov.kz text holds; the
# first wins a tie (cp1251 and kz1048 differ only in letters Kazakh has and Serbian has).
LEGACY_ENCODINGS = ("cp1251", "kz1048", "koi8_r", "cp866", "iso8859_5", "mac_cyrillic", "cp1252")
_LINE_ENDS = re.compile(rb"(\r\n|\r|\n)")
_CYRILLIC = "А-Яа-яЁё"
_KAZAKH = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"
# Latin letters of other languages (cp1252's é, ü, š in names): neither expected nor a sign
# against.
_LATIN = "À-ÖØ-öø-ſŒœŠšŸŽžƒ"
_EXPECTED = re.compile(rf"[{_CYRILLIC}{_KAZAKH}‘’‚“”„«»–—…№•°\u00a0€]")
# Signs of the wrong table: any other non-ASCII character or control, a Cyrillic letter
# inside a Latin word (damage, or cp1252 read as Cyrillic: "cafй"), and a small letter before a
# capital in one word (KOI8-R read as cp1251 swaps the cases).
_UNEXPECTED = re.compile(
    rf"[^\x00-\x7f{_CYRILLIC}{_KAZAKH}{_LATIN}‘’‚“”„«»–—…№•°\u00a0€]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
    rf"|[A-Za-z][{_CYRILLIC}{_KAZAKH}]|[{_CYRILLIC}{_KAZAKH}][A-Za-z]"
    rf"|[а-яёәғқңөұүһі][А-ЯЁӘҒҚҢӨҰҮҺІ]"
)


_CYRILLIC_WORD = re.compile(rf"[{_CYRILLIC}{_KAZAKH}]{{2,}}")


def _score(text: str) -> tuple[int, int]:
    """(expected, unexpected) characters of a text read in some encoding."""
    return len(_EXPECTED.findall(text)), len(_UNEXPECTED.findall(text))


def _plausible(text: str) -> bool:
    expected, unexpected = _score(text)
    return expected > 0 and unexpected * 20 <= expected  # a stray sign in a long text


def _legacy_words(text: str) -> bool:
    """A line read in a legacy encoding is one when it reads as words: a byte or two damaged
    in a UTF-8 line read as no word (`Minis\xffter`, `A \xff body`), and become U+FFFD."""
    return _plausible(text) and _CYRILLIC_WORD.search(text) is not None


def _is_legacy_line(raw: bytes) -> bool:
    """Not UTF-8, and no good UTF-8 in it either (a UTF-8 line with a damaged byte is not)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
        return all(char < "\x80" or char == "\ufffd" for char in text)
    return False


def _legacy_encoding(texts: list[bytes]) -> str | None:
    """The legacy encoding these bytes read best in, when they read as plausible text."""
    if not texts:
        return None
    data = b"\n".join(texts)
    best = max(LEGACY_ENCODINGS, key=lambda encoding: _rank(data.decode(encoding, "replace")))
    return best if _plausible(data.decode(best, "replace")) else None


def _rank(text: str) -> int:
    expected, unexpected = _score(text)
    return expected - 10 * unexpected
