"""Pure choice of the legacy encoding a dump that is not UTF-8 was written in.

gov.kz publishes in Kazakh, Russian and English, so such a dump is in one of the encodings
those were written in before UTF-8. charset-normalizer guesses among every encoding by
generic models: on a mostly English dump with a few Cyrillic words or curly quotes it chose
cp850 or cp1250 (measured on the samples in cp1251), garbling every quote and every Russian
title. Here the choice is among these, by what a gov.kz text holds; the first wins a tie
(cp1251 and kz1048 differ only in letters that Kazakh has and Serbian has).
"""

import re

LEGACY_ENCODINGS = ("cp1251", "kz1048", "koi8_r", "cp866", "iso8859_5", "mac_cyrillic", "cp1252")
SAMPLE_BYTES = 256 * 1024  # bytes scored, from the start, middle and end of larger texts
_CYRILLIC = "А-Яа-яЁё"
_KAZAKH = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"
_MARKS = "‘’‚“”„«»–—…№•°\u00a0€"
# Latin letters of other languages (cp1252's é, ü, š in names): neither expected nor a sign
# against.
_LATIN = "À-ÖØ-öø-ſŒœŠšŸŽžƒ"
# Latin letters with no Cyrillic look-alike: Kazakh typed with a Latin "i" for "і" (or "c"
# for "с") is common, and must not count against the table that reads it.
_UNLIKE_CYRILLIC = "bdfghklmnqrtuvwzDFGLNQRUVWZ"
_EXPECTED = re.compile(rf"[{_CYRILLIC}{_KAZAKH}{_MARKS}]")
# Signs of the wrong table: any other non-ASCII character or control, a Cyrillic letter
# beside a Latin one that looks like none (damage, or cp1252 read as Cyrillic: "cafй"), and
# a small letter before a capital in one word (KOI8-R read as cp1251 swaps the cases).
_UNEXPECTED = re.compile(
    rf"[^\x00-\x7f{_CYRILLIC}{_KAZAKH}{_LATIN}{_MARKS}]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
    rf"|[{_UNLIKE_CYRILLIC}][{_CYRILLIC}{_KAZAKH}]|[{_CYRILLIC}{_KAZAKH}][{_UNLIKE_CYRILLIC}]"
    r"|[а-яёәғқңөұүһі][А-ЯЁӘҒҚҢӨҰҮҺІ]"
)
_CYRILLIC_WORD = re.compile(rf"[{_CYRILLIC}{_KAZAKH}]{{2,}}")


def score(text: str) -> tuple[int, int]:
    """(expected, unexpected) characters of a text read in some encoding; `subn` counts
    without making a string of each match (`findall` made one per Cyrillic letter)."""
    return _EXPECTED.subn("", text)[1], _UNEXPECTED.subn("", text)[1]


def plausible(text: str) -> bool:
    expected, unexpected = score(text)
    return expected > 0 and unexpected * 20 <= expected  # a stray sign in a long text


def reads_as_words(text: str) -> bool:
    """A line read in a legacy encoding is one when it reads as words: a byte or two damaged
    in a UTF-8 line read as no word (`Minis\\xffter`, `A \\xff body`)."""
    return plausible(text) and _CYRILLIC_WORD.search(text) is not None


def sample(data: bytes) -> bytes:
    """What is scored of a text: all of a small one, else its start, middle and end (the
    encodings are of one byte a character, so any cut is between characters)."""
    if len(data) <= SAMPLE_BYTES:
        return data
    third = SAMPLE_BYTES // 3
    middle = len(data) // 2 - third // 2
    return b"\n".join((data[:third], data[middle : middle + third], data[-third:]))


def best_encoding(data: bytes) -> tuple[str, bool]:
    """The legacy encoding a sample of these bytes reads best in, and whether it reads as
    plausible text."""
    scored = sample(data)
    texts = {encoding: scored.decode(encoding, "replace") for encoding in LEGACY_ENCODINGS}
    best = max(LEGACY_ENCODINGS, key=lambda encoding: _rank(texts[encoding]))
    return best, plausible(texts[best])


def more_expected(data: bytes, encoding: str) -> bool:
    """Whether the text reads with more expected than unexpected characters: the best
    guess left when no encoding reads plausibly and charset-normalizer has none."""
    expected, unexpected = score(sample(data).decode(encoding, "replace"))
    return expected > unexpected


def _rank(text: str) -> int:
    expected, unexpected = score(text)
    return expected - 10 * unexpected
