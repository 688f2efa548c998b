"""The search terms' faster code (issue 31) against compact copies of the code before it
(c52c569), on generated hostile text: the same words, stems, tokens and terms, and so the
same index on both stores."""

import re
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.text import search_terms
from feeds.text.search_terms import (
    _WORDLESS_MARKS,
    FIELD_GAP,
    MAX_PER_WORD,
    MAX_WORD,
    document_tokens,
    normalise,
    release_terms,
    stem,
    words,
)

_OLD_WORD = re.compile(r"\w+")

# Pieces of what releases hold: English, Russian and Kazakh words, digits, URLs, the marks
# the fast cut knows and others it does not, accents, invisible characters, odd blanks.
PIECES = st.sampled_from(
    [
        "Tax", "declarations", "Kazakhstan’s", "R&D_fund", "e-government", "налогов",
        "мектептердің", "Ёлка", "йод", "ҚАЗАҚСТАН", "Café", "DÉCLARATION", "naïve", "straße",
        "2026", "3,308", "10.01.2026", "№5", "https://www.gov.kz/memleket/entities/mfa?lang=en",
        "Source : https://www.gov.kz/x", " ", "  ", "\t", "\n", "\xa0", "\u2009", "\u200b",
        "\u00ad", "_", "__", "’", "‘", "“", "”", "„", "«", "»", "–", "—", "‑", "…", "•", "·",
        "é", "e\u0301", "ſ", "K", "ǅ", "İ", "ﬁ", "²", "٣", "①", "x" * 70, "ж" * 66, "a_b",
        ".", ",", "!", "(", ")", "'", '"', "/", ":", ";", "-", "©", "€", "😀", "\U0001d400",
    ]
)  # fmt: skip
TEXTS = st.lists(PIECES, max_size=30).map("".join) | st.text(max_size=60)


def old_words(text: str) -> list[str]:
    found = _OLD_WORD.findall(normalise(text))
    if max(map(len, found), default=0) > MAX_WORD:
        return [word[:MAX_WORD] for word in found]
    return found


def old_document_tokens(fields: list[str], lang: str) -> list[str]:
    found = _OLD_WORD.findall(f" {FIELD_GAP} ".join(map(normalise, fields)))
    if max(map(len, found), default=0) > MAX_WORD:
        found = [word[:MAX_WORD] for word in found]
    tokens = [FIELD_GAP if word == FIELD_GAP else stem(word, lang) for word in found]
    del tokens[search_terms.MAX_POSITIONS :]
    if len(tokens) > MAX_PER_WORD and max(Counter(tokens).values()) > MAX_PER_WORD:
        seen: Counter[str] = Counter()
        for index, token in enumerate(tokens):
            seen[token] += 1
            if token != FIELD_GAP and seen[token] > MAX_PER_WORD:
                tokens[index] = FIELD_GAP
    return tokens


def test_the_wordless_marks_are_no_word_characters_and_keep_no_accent() -> None:
    assert not [mark for mark in _WORDLESS_MARKS if _OLD_WORD.match(mark)]
    assert all(normalise(f"e{mark}") == f"e{mark}".casefold() for mark in _WORDLESS_MARKS)


@settings(max_examples=3000, deadline=None)
@given(TEXTS)
def test_words_as_the_word_pattern_cut_them(text: str) -> None:
    assert words(text) == old_words(text)


@settings(max_examples=2000, deadline=None)
@given(st.lists(TEXTS, max_size=3), st.sampled_from(["en", "ru", "kk"]))
def test_document_tokens_as_before(fields: list[str], lang: str) -> None:
    # Twice: the second time every stem comes from the dictionary of known words.
    assert document_tokens(fields, lang) == old_document_tokens(fields, lang)
    assert document_tokens(fields, lang) == old_document_tokens(fields, lang)


@settings(max_examples=300, deadline=None)
@given(PIECES, st.integers(MAX_PER_WORD - 3, MAX_PER_WORD + 3), TEXTS)
def test_the_limit_of_positions_per_word_as_before(word: str, times: int, rest: str) -> None:
    fields = [f"{word} " * times + rest, rest]
    assert document_tokens(fields, "en") == old_document_tokens(fields, "en")


@settings(max_examples=1000, deadline=None)
@given(TEXTS, TEXTS, st.sampled_from(["en", "ru", "kk"]))
def test_release_terms_as_before(title: str, body: str, lang: str) -> None:
    old = " ".join(old_document_tokens([field for field in (title, body) if field], lang))
    assert release_terms(title, body, lang) == old


def test_a_long_word_keyed_whole_has_the_stem_of_its_start() -> None:
    long = "declarations" * 8
    assert document_tokens([long], "en") == [stem(long[:MAX_WORD], "en")]
    assert document_tokens([long + "x"], "en") == [stem(long[:MAX_WORD], "en")]
