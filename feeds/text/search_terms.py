"""Pure text normalisation for search (issue 17): the same words out of a release's text and
out of a query, so that both stores (SQLite FTS5, PostgreSQL tsvector) index and match the very
same tokens, and a plain Python filter can say what either should find.

A word is a run of letters and digits (`[^\\W_]+`) of the text case-folded, with `ё` as `е`
and the accents of Latin letters removed (`é` -> `e`; Cyrillic `й` keeps its breve: it is
another letter). Each word is reduced to a stem by the rules of a language:

- Latin words: Snowball's English stemmer (`declarations`, `declaration` -> `declar`);
- Cyrillic words of a Russian or English release: Snowball's Russian stemmer (`налогов` ->
  `налог`);
- Cyrillic words of a Kazakh release: `kazakh_stem`, a few suffix rules (below).

snowballstemmer is the kept Python port of the Snowball stemmers (Lucene, Elasticsearch and
PostgreSQL use the same algorithms); with PyStemmer installed (a dependency) it hands out
PyStemmer's, Snowball's own C, which give the same stems 100x faster. A query has no
language, so each of its Cyrillic words may be either: it matches a release holding its
Russian or its Kazakh stem (`query_forms`).
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache

import snowballstemmer

_ENGLISH = snowballstemmer.stemmer("english")
_RUSSIAN = snowballstemmer.stemmer("russian")
_WORD = re.compile(r"\w+")  # on the text with "_" made a space: letters and digits
_LATIN_MARKS = re.compile(r"(?<=[a-z])[\u0300-\u036f]+")
# Latin letters with marks, precomposed, or a combining mark: only then is NFD worth its cost.
_ACCENTED = re.compile("[\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f]")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
MAX_WORD = 64  # characters of a word that count: a lexeme must stay well under PostgreSQL's 2 kB
# PostgreSQL keeps positions up to 16,383 and at most 256 per lexeme: a release's words past
# these are not indexed, on either store, so that both find the same.
MAX_POSITIONS = 16_000
MAX_PER_WORD = 256
# In `document_tokens`: a position no query word can take ("_" is never part of a word), between
# two fields (no phrase spans them) and in place of words past the limits.
FIELD_GAP = "_"

# Kazakh is agglutinative: plural, possessive and case suffixes stack on a stem
# (мектеп+тер+іміз+дің). No kept library stems Kazakh (Snowball has no Kazakh algorithm; the
# Kazakh analysers on PyPI are young single-author projects), so these rules strip up to three
# of the common inflectional suffixes, longest first, never leaving a stem under three letters;
# derivational suffixes (-лық, -шы) are left alone: they make other words.
_KAZAKH_SUFFIXES = sorted(
    {
        # plural
        "лар", "лер", "дар", "дер", "тар", "тер",
        # possessive
        "ымыз", "іміз", "мыз", "міз", "ыңыз", "іңіз", "ңыз", "ңіз", "ым", "ім", "ың", "ің",
        "сы", "сі", "ы", "і",
        # genitive, accusative
        "ның", "нің", "дың", "дің", "тың", "тің", "ны", "ні", "ды", "ді", "ты", "ті",
        # dative, locative, ablative, instrumental
        "ға", "ге", "қа", "ке", "на", "не", "да", "де", "та", "те", "нда", "нде",
        "нан", "нен", "дан", "ден", "тан", "тен", "мен", "бен", "пен",
    },
    key=len,
    reverse=True,
)  # fmt: skip
_KAZAKH_MIN_STEM = 3
# A stem's last consonant is voiced before a vowel (мектеп -> мектебі): restored when a
# suffix starting with a vowel is stripped.
_DEVOICED = {"б": "п", "г": "к", "ғ": "қ"}
_VOWELS = set("аәеиоөұүыіэюя")


def normalise(text: str) -> str:
    """Case folded, `ё` as `е`, Latin letters without accents."""
    return _without_accents(_folded(text))


def _folded(text: str) -> str:
    return text.casefold().replace("ё", "е").replace("_", " ")


def _without_accents(folded: str) -> str:
    if folded.isascii() or not _ACCENTED.search(folded):
        return folded
    stripped = _LATIN_MARKS.sub("", unicodedata.normalize("NFD", folded))
    return unicodedata.normalize("NFC", stripped)


# What `_WORD` cuts an ASCII text into, with a translation and a split in C: every ASCII
# character no part of a word made a space ("_" is one).
_ASCII_NOT_WORD = str.maketrans(
    {char: " " for char in map(chr, range(128)) if not (char.isalnum() or char == "_")}
)
# The characters beyond ASCII in most English releases, none of them part of a word nor
# accented: made spaces, such a text is ASCII and takes the fast cut
# (tests/text/test_search_terms_fast.py).
_WORDLESS_MARKS = "’‘“”„«»–—‑…№•·\xa0"


def _normalised_words(text: str) -> list[str]:
    """`_WORD.findall(normalise(text))`. An English text whose only characters beyond ASCII
    are `_WORDLESS_MARKS` (none of them accented) is cut by a translation and a split in C,
    without the accents' search (a fifth of the pattern's cost, and 5 µs an item less).
    The marks are made spaces before the text is folded, not after: folding commutes with
    that (it maps characters one by one, and a mark to itself), and folding ASCII is
    several times cheaper (a third of the English releases: 50 -> 38 µs a body, issue 31).
    A text still beyond ASCII is folded as it is, and may be ASCII then (a ligature, the
    Kelvin sign): the pattern finds in it what the cut would."""
    if not text.isascii():
        marked = text
        for mark in _WORDLESS_MARKS:
            if mark in marked:
                marked = marked.replace(mark, " ")
        if not marked.isascii():
            return _WORD.findall(_without_accents(_folded(text)))  # Cyrillic, or accents
        text = marked
    return _folded(text).translate(_ASCII_NOT_WORD).split()


def words(text: str) -> list[str]:
    """The words of a text, normalised, not stemmed."""
    found = _normalised_words(text)
    if max(map(len, found), default=0) > MAX_WORD:
        return [word[:MAX_WORD] for word in found]
    return found


def kazakh_stem(word: str) -> str:
    for _ in range(3):
        for suffix in _KAZAKH_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= _KAZAKH_MIN_STEM:
                word = word[: -len(suffix)]
                if suffix[0] in _VOWELS and word[-1] in _DEVOICED:
                    word = word[:-1] + _DEVOICED[word[-1]]
                break
        else:
            return word
    return word


@lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    """A normalised word's stem as a release in `lang` is indexed ("en", "ru", "kk")."""
    if not _CYRILLIC.search(word):
        return _ENGLISH.stemWord(word) if word.isalpha() else word
    if lang == "kk":
        return kazakh_stem(word)
    return _RUSSIAN.stemWord(word)


def query_forms(word: str) -> tuple[str, ...]:
    """The stems a normalised query word matches: one for a Latin word, its Russian and its
    Kazakh stem for a Cyrillic one (a query has no language)."""
    return tuple(dict.fromkeys((stem(word, "en"), stem(word, "kk"))))


_STEMS: dict[str, dict[str, str]] = {"en": {}, "ru": {}, "kk": {}}
_STEMS_KEPT = 200_000  # words per language; the cache starts again beyond


def document_tokens(fields: list[str], lang: str) -> list[str]:
    """The stems of a release's fields at their positions, `FIELD_GAP` between fields (a
    phrase never runs from a title into a body); words past the limits are left out.

    This runs for every item ingested (a third of the ingest's time when written word by
    word): stems come from a dictionary per language, mapped in C over the words."""
    stems = _STEMS.setdefault(lang, {})
    if len(stems) > _STEMS_KEPT:  # a new dictionary: another thread may be reading the old one
        stems = _STEMS[lang] = {}
    # The fields' words with FIELD_GAP between them (`normalise` leaves no "_" in a field).
    found = _normalised_words(fields[0]) if fields else []
    for field in fields[1:]:
        found.append(FIELD_GAP)
        found += _normalised_words(field)
    # Most words of a text are known already: their stems looked up in one C pass, and only
    # a text with a word not seen yet pays for the set of its words (a third of the lookup).
    # A word is kept whole as the key, its stem that of its first MAX_WORD characters: no
    # pass over every word's length (8 µs an item) for the rare word that long.
    tokens = list(map(stems.get, found))
    if None in tokens:
        for word in set(found).difference(stems):
            stems[word] = FIELD_GAP if word == FIELD_GAP else stem(word[:MAX_WORD], lang)
        tokens = list(map(stems.__getitem__, found))
    del tokens[MAX_POSITIONS:]
    if _may_repeat_too_often(tokens) and max(Counter(tokens).values()) > MAX_PER_WORD:
        seen: Counter[str] = Counter()
        for index, token in enumerate(tokens):
            seen[token] += 1
            if token != FIELD_GAP and seen[token] > MAX_PER_WORD:
                tokens[index] = FIELD_GAP
    return tokens


def _may_repeat_too_often(tokens: list[str]) -> bool:
    """False when no token can be there more than MAX_PER_WORD times: a token there n times
    makes the tokens outnumber the distinct ones by n - 1. A set is a third of a Counter's
    cost, and settles most texts of over MAX_PER_WORD words."""
    return len(tokens) > MAX_PER_WORD and len(tokens) - len(set(tokens)) >= MAX_PER_WORD


def release_terms(title: str, body: str, lang: str) -> str:
    """The indexed terms of a release's own text (its dump title and body): the stems of
    `document_tokens` joined by spaces (a stem holds none). One string, so that the ingest's
    parsing processes can make it and send it back cheaply, and SQLite's index stores it as
    it is."""
    return " ".join(document_tokens([field for field in (title, body) if field], lang))


def positions(tokens: list[str]) -> Iterator[tuple[int, str]]:
    """(1-based position, token) of the indexed tokens."""
    for index, token in enumerate(tokens, start=1):
        if token != FIELD_GAP:
            yield index, token
