"""Pure text cleaning: XML-safe characters, look-alike letters, glued sentences.

Scraped text carries control characters (illegal in XML 1.0), invisible formatting
characters, Cyrillic letters inside Latin words ("Рreventive") and sentences glued
together where the scraper dropped a paragraph break ("summed up.As is known").
"""

import html
import re
import unicodedata

# XML 1.0 allows tab, newline and carriage return among C0; we keep tab and newline only
# (line endings are normalised before). C1 controls, noncharacters, the byte-order mark,
# invisible formatting characters (zero-width space and joiners, the soft hyphen, the word
# joiner, direction marks) and bidirectional overrides (which can disguise text) go too:
# left in, "Maji\u00adlis" looks like "Majilis" but is another title, another release.
# NEL (U+0085) is a line break, not a control: kept, it is a blank the cleaning collapses.
_REMOVED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\u00ad\ufeff\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufffe\uffff\ud800-\udfff]"
)
_SPACES = re.compile(r"[^\S\n]+")

# Cyrillic and Latin letters that look the same; used only inside words that mix scripts.
_CYR_TO_LAT = dict(zip("АВЕКМНОРСТХаеорсухіјѕ", "ABEKMHOPCTXaeopcyxijs", strict=True))
_LAT_TO_CYR = {lat: cyr for cyr, lat in _CYR_TO_LAT.items() if cyr not in "іјѕ"}
# Only words holding both scripts go through the (slow, Python) repair: a word start that
# is followed, within the word, by a Latin letter and by a Cyrillic one. A text is repaired
# only where the two scripts touch: a Latin letter right after or before a Cyrillic one,
# found from the Latin letters (few in a Cyrillic text) rather than from every letter of
# either script (37 -> 24 µs for a Russian release).
_SCRIPTS_TOUCH = re.compile(
    "[A-Za-z\u00c0-\u024f](?:(?<=[\u0400-\u052f][A-Za-z\u00c0-\u024f])|(?=[\u0400-\u052f]))"
)
_CYRILLIC = re.compile("[\u0400-\u052f]")
_MIXED_WORD = re.compile(r"\b(?=\w*[A-Za-z\u00c0-\u024f])(?=\w*[\u0400-\u052f])\w+")


# In UTF-8 every character of U+0400-U+04FF, and none other, starts with one of these bytes;
# U+0500-U+052F (and Armenian's first letters) with D4.
CYRILLIC_LEAD_BYTES = (b"\xd0", b"\xd1", b"\xd2", b"\xd3")


def has_cyrillic(text: str) -> bool:
    """Whether a text holds a Cyrillic letter (U+0400-U+052F): `_CYRILLIC.search`, without
    its scan. ASCII is known without looking; otherwise the UTF-8 is searched byte by byte
    (encoding and four byte searches: 2 µs for 2 kB of English, the pattern 7 to 13)."""
    if text.isascii():
        return False
    data = text.encode("utf-8", "surrogatepass")
    if any(lead in data for lead in CYRILLIC_LEAD_BYTES):
        return True
    return b"\xd4" in data and _CYRILLIC.search(text) is not None


def remove_unsafe_chars(text: str) -> tuple[str, int]:
    """Drop characters that are illegal in XML or invisible tricks; return the count removed."""
    cleaned, count = _REMOVED.subn("", text)
    return cleaned, count


# Character references a scraper copied from the page's HTML ("&amp;", "&#171;", "&nbsp;").
# Only complete ones, ended by ";": html.unescape alone also decodes legacy names without
# it, which turns a URL's "&notify=1" into "¬ify=1" and "&para=2" into "¶=2".
REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def decode_references(text: str) -> str:
    """Replace HTML character references ended by ";" with their characters."""
    if "&" not in text:
        return text
    return REFERENCE.sub(lambda match: html.unescape(match.group(0)), text)


def collapse_spaces(text: str) -> str:
    """Turn runs of spaces, tabs and other blanks (not newlines) into one space, trimmed."""
    if "\n" not in text:
        return " ".join(text.split())  # the same for one line, and several times faster
    return _SPACES.sub(" ", text).strip()


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    if name.startswith("LATIN"):
        return "latin"
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    return "other"


def _fix_word(match: re.Match[str]) -> str:
    word = match.group()
    scripts = [_script(c) for c in word]
    latin, cyrillic = scripts.count("latin"), scripts.count("cyrillic")
    if not latin or not cyrillic:
        return word
    # Convert the minority script to the majority one, but only when every minority
    # letter has a look-alike: "NҚ" (a real Kazakh abbreviation) stays as it is.
    table = _CYR_TO_LAT if latin >= cyrillic else _LAT_TO_CYR
    minority = "cyrillic" if latin >= cyrillic else "latin"
    if not all(c in table for c, s in zip(word, scripts, strict=True) if s == minority):
        return word
    return "".join(
        table.get(c, c) if s == minority else c for c, s in zip(word, scripts, strict=True)
    )


def fix_lookalikes(text: str) -> str:
    """Replace Cyrillic letters hiding in Latin words (and the reverse) by their look-alikes."""
    # Most texts have no Latin letter next to a Cyrillic one: nothing to repair. A text with
    # no Cyrillic letter at all (most English ones) is told without the pattern of the two
    # scripts touching.
    if not has_cyrillic(text) or not _SCRIPTS_TOUCH.search(text):
        return text
    return _MIXED_WORD.sub(_fix_word, text)


# A sentence end glued to the next sentence: two lower-case letters, the end mark, maybe a
# closing quote, then a capital letter, an opening quote or a digit with no space between.
_GLUED = re.compile(r"(?<=\w\w)([.!?]+[\"”»’)]*)(?=[\w“«\"])")


def _is_glue(text: str, match: re.Match[str]) -> bool:
    before = text[match.start() - 2 : match.start()]
    after = text[match.end()]
    if not (before.isalpha() and before.islower()):
        return False  # "U.S.A", "2.7", "D.C." are not glued sentences
    return after.isupper() or after.isdigit() or after in '“«"'


def split_glued_sentences(line: str) -> list[str]:
    """Split "summed up.As is known" into ["summed up.", "As is known"]."""
    parts: list[str] = []
    start = 0
    for match in _GLUED.finditer(line):
        if _is_glue(line, match):
            parts.append(line[start : match.end()].strip())
            start = match.end()
    parts.append(line[start:].strip())
    return [p for p in parts if p]


def paragraphs(body: str) -> list[str]:
    """The paragraphs to display for a body: its lines, with glued sentences split apart."""
    result: list[str] = []
    for line in body.split("\n"):
        result.extend(split_glued_sentences(line))
    return result


def normalize_title(title: str) -> str:
    """The form of a title used for identity: case, spacing and punctuation do not matter."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(re.findall(r"\w+", folded))
