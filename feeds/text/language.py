"""Pure language detection for an item: English, Russian or Kazakh (SPEC section 3).

Kazakh is written in Cyrillic with nine letters of its own; a text with enough of them is
Kazakh, other Cyrillic text is Russian, and text that is mostly Latin is English.
"""

import re

from feeds.text.textclean import CYRILLIC_LEAD_BYTES

_KAZAKH = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
_KAZAKH_SHARE = 0.01  # Kazakh prose has about 5% of these; a stray "Іскер" in Russian has far less


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))  # counting in C: this runs for every item ingested


# Every byte but the ASCII letters': deleted, what is left of a text's UTF-8 is its Latin letters
# (no byte of a character beyond ASCII is below 0x80).
_NOT_LATIN = bytes(
    byte for byte in range(256) if not chr(byte).isascii() or not chr(byte).isalpha()
)


def detect_language(text: str) -> str:
    """ "en", "ru" or "kk" for a text; "en" when there are no letters at all."""
    if text.isascii():
        return "en"  # most English items: known without a look at the text
    # Counted on the UTF-8 bytes (each letter of U+0400-U+04FF starts with one of four bytes):
    # byte counts and a byte deletion cost a fraction of the patterns' findall (17 µs an item).
    data = text.encode("utf-8", "surrogatepass")
    cyrillic = sum(map(data.count, CYRILLIC_LEAD_BYTES))
    if not cyrillic or cyrillic <= len(data.translate(None, _NOT_LATIN)):
        return "en"
    return "kk" if _count(_KAZAKH, text) >= _KAZAKH_SHARE * cyrillic else "ru"
