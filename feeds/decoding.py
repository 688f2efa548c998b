"""Pure decoding of a dump's bytes to text, reporting what was not clean UTF-8."""

import codecs

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
    problems: list[Problem] = []
    lines: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            problems.append(
                Problem(
                    source,
                    number,
                    f"undecodable byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line "
                    "(not UTF-8); replaced by U+FFFD",
                )
            )
            lines.append(raw.decode("utf-8", errors="replace"))
    return "\n".join(lines), problems


def _other_encoding(data: bytes, source: str) -> tuple[str, list[Problem]]:
    guess = from_bytes(data).best()
    if guess is None:
        text = data.decode("utf-8", errors="replace")
        return text, [
            Problem(source, None, "not text in any known encoding; bad bytes replaced by U+FFFD")
        ]
    encoding = guess.encoding
    message = f"not UTF-8; read as {encoding} (guessed), please write dumps in UTF-8"
    return str(guess), [Problem(source, None, message)]
