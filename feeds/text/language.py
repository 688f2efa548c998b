"""Pure language detection for an item: English, Russian or Kazakh (SPEC section 3).

Kazakh is written in Cyrillic with nine letters of its own; a text with enough of them is
Kazakh, other Cyrillic text is Russian, and text that is mostly Latin is English.
"""

import re

_KAZAKH = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
_CYRILLIC = re.compile("[\u0400-\u04ff]")  # Kazakh letters included
_LATIN = re.compile("[A-Za-z]")
_KAZAKH_SHARE = 0.01  # Kazakh prose has about 5% of these; a stray "Іскер" in Russian has far less


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))  # counting in C: this runs for every item ingested


def detect_language(text: str) -> str:
    """ "en", "ru" or "kk" for a text; "en" when there are no letters at all."""
    if not _CYRILLIC.search(text):
        return "en"  # most items: no need to count anything
    cyrillic = _count(_CYRILLIC, text)
    if cyrillic <= _count(_LATIN, text):
        return "en"
    return "kk" if _count(_KAZAKH, text) >= _KAZAKH_SHARE * cyrillic else "ru"
