"""The pure parts of search (issue 17): normalisation and stems (feeds.text.search_terms), the query
language (feeds.text.searchquery) and snippets (feeds.text.snippet)."""

import pytest

from feeds.text.search_terms import (
    FIELD_GAP,
    MAX_PER_WORD,
    MAX_POSITIONS,
    document_tokens,
    kazakh_stem,
    normalise,
    positions,
    query_forms,
    words,
)
from feeds.text.searchquery import BadSearch, Term, matches, parse_search
from feeds.text.snippet import snippet


def test_normalise_folds_case_accents_and_yo_but_not_short_i() -> None:
    assert normalise("Café DÉCLARATION Ёлка йод") == "cafe declaration елка йод"
    assert words("e-government, Kazakhstan’s R&D_fund") == [
        "e", "government", "kazakhstan", "s", "r", "d", "fund",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("мектептер", "мектеп"),
        ("мектептердің", "мектеп"),
        ("мектепке", "мектеп"),
        ("мектебі", "мектеп"),  # п voiced before a vowel, restored
        ("салықтар", "салық"),
        ("ол", "ол"),  # never under three letters
    ],
)
def test_kazakh_suffixes(word: str, stem: str) -> None:
    assert kazakh_stem(word) == stem


def test_query_forms_of_latin_and_cyrillic_words() -> None:
    assert query_forms("declarations") == ("declar",)
    assert query_forms("налогов") == ("налог", "налогов")  # Russian, then Kazakh
    assert query_forms("мектептер") == ("мектептер", "мектеп")


def test_document_tokens_keep_fields_apart_and_respect_the_limits() -> None:
    assert document_tokens(["Tax declarations", "New taxes"], "en") == [
        "tax", "declar", FIELD_GAP, "new", "tax",
    ]  # fmt: skip
    many = document_tokens(["tax " * (MAX_PER_WORD + 10) + "end"], "en")
    assert many.count("tax") == MAX_PER_WORD and many[-1] == "end"
    assert len(many) == MAX_PER_WORD + 11  # the extra ones keep their positions, as gaps
    long = document_tokens([" ".join(f"w{i}" for i in range(MAX_POSITIONS + 50))], "en")
    assert len(long) == MAX_POSITIONS
    assert list(positions(["a", FIELD_GAP, "b"])) == [(1, "a"), (3, "b")]


def test_parse_search_terms_phrases_and_exclusions() -> None:
    query = parse_search('  Foreign "TAX declarations" -embassy -"united nations" ')
    assert query is not None
    assert query.text == 'Foreign "TAX declarations" -embassy -"united nations"'
    assert query.include == (Term((("foreign",),)), Term((("tax",), ("declar",))))
    assert query.exclude == (Term((("embassi",),)), Term((("unit",), ("nation",))))
    assert parse_search("") is None and parse_search(" \x00\t ") is None
    unbalanced = parse_search('"foreign affairs')
    assert unbalanced is not None and unbalanced.include == (Term((("foreign",), ("affair",))),)


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("x" * 201, "bad q: over 200 characters"),
        ('* : - "" ()', "bad q: no word to search for"),
        (" ".join(f"w{i}" for i in range(13)), "bad q: over 12 words and phrases"),
        ('"' + "налогов " * 7 + '"', "bad q: a phrase of over six Russian or Kazakh words"),
    ],
)
def test_bad_queries(q: str, message: str) -> None:
    with pytest.raises(BadSearch) as raised:
        parse_search(q)
    assert str(raised.value) == message


def test_matches_is_the_reference_filter() -> None:
    tokens = document_tokens(["Foreign affairs", "Taxes of Almaty"], "en")
    assert matches(parse_search('"foreign affairs" tax'), tokens)  # type: ignore[arg-type]
    assert not matches(parse_search('"affairs tax"'), tokens)  # type: ignore[arg-type]
    assert not matches(parse_search("foreign -almaty"), tokens)  # type: ignore[arg-type]


def test_snippet_marks_the_matched_words_around_the_first() -> None:
    text = " ".join(f"w{i}" for i in range(30)) + " declarations of goods, and a declaration."
    pieces = snippet(text, parse_search("declaration -goods"), "en")  # type: ignore[arg-type]
    assert pieces[0] == ("…", False)
    assert [piece for piece, marked in pieces if marked] == ["declarations", "declaration"]
    assert "".join(piece for piece, _ in pieces).endswith(
        "declarations of goods, and a declaration"
    )


def test_stems_are_made_by_pystemmer_with_the_pure_python_ports_results() -> None:
    """Issue 31: snowballstemmer hands its stemmers to PyStemmer (Snowball's C) when that is
    installed (a runtime dependency): 100x faster for a word not seen yet. Its stems must be
    the pure-Python port's, word for word, or a store indexed by one would not find what a
    query stemmed by the other asks: the samples' words and random ones in their alphabets."""
    import random

    import snowballstemmer
    import Stemmer
    from snowballstemmer.english_stemmer import EnglishStemmer
    from snowballstemmer.russian_stemmer import RussianStemmer

    from feeds.text import search_terms
    from tests.conftest import SAMPLE_DUMPS

    assert isinstance(search_terms._ENGLISH, Stemmer.Stemmer), (
        "feeds.text.search_terms: snowballstemmer did not use PyStemmer (pyproject.toml lists it)"
    )
    assert snowballstemmer.stemmer is Stemmer.Stemmer
    vocabulary = set()
    for dump in SAMPLE_DUMPS:
        vocabulary.update(words(dump.read_text()))
    rng = random.Random(31)
    letters = "abcdefghijklmnopqrstuvwxyz'абвгдежзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі0123456789ßéñ"
    vocabulary.update(
        "".join(rng.choice(letters) for _ in range(rng.randint(1, 16))) for _ in range(20_000)
    )
    for name, port in (("english", EnglishStemmer()), ("russian", RussianStemmer())):
        native = Stemmer.Stemmer(name)
        differ = sorted(w for w in vocabulary if native.stemWord(w) != port.stemWord(w))
        assert not differ, f"{name}: PyStemmer and snowballstemmer's port differ on {differ[:10]}"
