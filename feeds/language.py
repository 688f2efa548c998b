"""Pure language detection for an item: English, Russian or Kazakh (SPEC section 3).

Kazakh is written in Cyrillic with nine letters of its own; a text with enough of them is
Kazakh, other Cyrillic text is Russian, and text that is mostly Latin is English.
"""

_KAZAKH_LETTERS = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
_KAZAKH_SHARE = 0.01  # Kazakh prose has about 5% of these; a stray "Іскер" in Russian has far less


def detect_language(text: str) -> str:
    """ "en", "ru" or "kk" for a text; "en" when there are no letters at all."""
    cyrillic = latin = kazakh = 0
    for char in text:
        if not char.isalpha():
            continue
        if char in _KAZAKH_LETTERS:
            kazakh += 1
            cyrillic += 1
        elif "\u0400" <= char <= "\u04ff":
            cyrillic += 1
        elif char.isascii():
            latin += 1
    if cyrillic <= latin:
        return "en"
    return "kk" if kazakh >= _KAZAKH_SHARE * cyrillic else "ru"
