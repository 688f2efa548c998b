"""feeds.text.termfinder (issue 31): the terms it finds are, to the position, those the trie
regular expression of MATCHER_VERSION 1 found (kept below as the reference), on the sample
items, on the synthetic bench dump and on generated texts and terms; classify() gives what
the reference classification gave."""

import re
import sys
from collections.abc import Sequence
from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synthetic import synthetic_dump
from feeds.ingest import parse_bytes
from feeds.text.classify import TopicRules, load_topics, normalize
from feeds.text.termfinder import Found, TermFinder, _is_word, lead
from tests.conftest import PROJECT, SAMPLE_DUMPS

# -- the reference: the matcher before issue 31 (classify.compile_terms, finditer) ---------

_REF_ATOMS = {"\0gap": r"\s+", "\0stem": r"\w*", "\0end": r"(?!\w)"}
_REF_ORDER = {"\0gap": 1, "\0stem": 2, "\0end": 3}


def _reference_atoms(term: str) -> list[str]:
    atoms: list[str] = []
    for index, word in enumerate(term.split(" ")):
        atoms += (["\0gap"] if index else []) + list(word.removesuffix("*"))
        atoms += ["\0stem"] if word.endswith("*") else []
    return atoms if term.endswith("*") else [*atoms, "\0end"]


def _reference_regex(node: dict[Any, Any]) -> str:
    keys = sorted((k for k in node if k is not None), key=lambda k: (_REF_ORDER.get(k, 0), k))
    branches = [_REF_ATOMS.get(k, re.escape(k)) + _reference_regex(node[k]) for k in keys]
    branches += [f"(?P<t{node[None]}>)"] if None in node else []
    return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"


@cache
def reference_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    if not terms:
        return re.compile(r"(?!)")
    trie: dict[Any, Any] = {}
    for index, term in enumerate(terms):
        node = trie
        for atom in _reference_atoms(term):
            node = node.setdefault(atom, {})
        node[None] = index
    return re.compile(rf"(?<!\w)(?:{_reference_regex(trie)})")


def reference_find(terms: Sequence[str], text: str) -> list[Found]:
    return [
        (m.start(), m.end(), int(m.lastgroup[1:]))  # type: ignore[index]
        for m in reference_pattern(tuple(terms)).finditer(text)
    ]


def reference_classify(rules: TopicRules, title: str, body: str) -> frozenset[str]:
    """TopicRules.classify before issue 31: per rule, the distinct terms found, scored."""
    owners: dict[str, list[tuple[int, str]]] = {}
    for index, rule in enumerate(rules.rules):
        for term in rule.terms:
            owners.setdefault(normalize(term), []).append((index, term))
    terms, owned = tuple(owners), list(owners.values())

    def found(text: str) -> list[set[str]]:
        sets: list[set[str]] = [set() for _ in rules.rules]
        for _, _, term in reference_find(terms, normalize(text)):
            for index, original in owned[term]:
                sets[index].add(original)
        return sets

    return frozenset(
        rule.topic.slug
        for rule, in_title, in_body in zip(rules.rules, found(title), found(body), strict=True)
        if 3 * len(in_title) + len(in_body) >= rule.min_score
    )


# -- the bundled rules on real and synthetic items ----------------------------------------

RULES = load_topics(PROJECT / "config" / "topics.toml")
FINDER: TermFinder = RULES._finder
TERMS = FINDER.terms
RECORDS = {
    (path.name, record.line): record
    for path in SAMPLE_DUMPS
    for record in parse_bytes(path.read_bytes(), path.name).records
}


def finds(key: tuple[str, int]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(text found, term) in a sample item's title and body."""
    record = RECORDS[key]
    title, body = normalize(record.title), normalize(record.body)
    return (
        [(title[start:end], TERMS[term]) for start, end, term in FINDER.find(title)],
        [(body[start:end], TERMS[term]) for start, end, term in FINDER.find(body)],
    )


def test_exact_finds_in_sample_items() -> None:
    assert finds(("000_6e049eb9971275b2.txt", 6)) == (
        [("ambassador", "ambassador*"), ("letter of credence", "letter of credence")],
        [
            ("credentials", "credentials"), ("ambassador", "ambassador*"),
            ("bilateral", "bilateral"), ("ambassador", "ambassador*"),
            ("diplomatic", "diplomat*"),
        ],
    )  # fmt: skip
    assert finds(("000_6e049eb9971275b2.txt", 32)) == (
        [("nativity", "nativity"), ("chapel", "chapel")],
        [("christmas", "christmas"), ("chapel", "chapel"), ("christmas", "christmas")],
    )
    assert finds(("001_805da140448cf3fc.txt", 28)) == (
        [],
        [
            ("salyq", "salyq*"), ("shadow economy", "shadow economy"),
            ("mobile application", "mobile app*"),
        ],
    )  # fmt: skip
    title, body = finds(("000_6e049eb9971275b2.txt", 38))  # Russian: phrases and stems
    assert title == [("развития села", "развития села"), ("малых городов", "малых городов")]
    assert body[:8] == [
        ("экономики", "экономик*"), ("прием граждан", "прием граждан"),
        ("экономического", "экономическ*"), ("сельских территорий", "сельских территорий"),
        ("малых городов", "малых городов"), ("моногородов", "моногород*"),
        ("микрокредиты", "микрокредит*"), ("агробизнеса", "агробизнес*"),
    ]  # fmt: skip
    assert len(body) == 20


def test_every_sample_text_as_the_reference_finds_it() -> None:
    texts = [normalize(text) for dump in SAMPLE_DUMPS for text in dump.read_text().split("\n")]
    texts += [normalize(r.title) for r in RECORDS.values()]
    texts += [normalize(r.body) for r in RECORDS.values()]
    total = 0
    for text in texts:
        expected = reference_find(TERMS, text)
        assert FINDER.find(text) == expected, text[:80]
        total += len(expected)
    assert total > 1000  # the samples find terms in plenty


def test_the_synthetic_bench_dump_as_the_reference_classifies_it() -> None:
    parsed = parse_bytes(synthetic_dump(120).encode(), "synthetic.txt")
    assert len(parsed.records) == 120
    for record in parsed.records:
        for text in (normalize(record.title), normalize(record.body)):
            assert FINDER.find(text) == reference_find(TERMS, text)
        assert RULES.classify(record.title, record.body) == reference_classify(
            RULES, record.title, record.body
        )


def test_edges_of_words_and_texts() -> None:
    texts = [
        "tax", "tax tax", "taxtax tax", "u.s.-tax", "(tax)", "tax,tax;tax", "налог налоговый",
        "e-gov", "e-government e-gov-kz", "ｔａｘ tax", "_tax tax_", "1tax tax1", "tax\ncode",
        "tax  code", "tax code", "tax coal", "tax-code", "", " ", "customs\tduties and value added tax.",
        "мемлекеттік кірістер департаменті", "akim's office, akim’s office", "social\u00a0programs",
        "central asian", "центральной азии", "таможенн", "ндс ндсный", "un-un un_ un",
        "small and medium-sized businesses", "tax\ud800code \udfff tax",
    ]  # fmt: skip
    for text in texts:
        assert FINDER.find(normalize(text)) == reference_find(TERMS, normalize(text)), text


def test_lone_surrogates_are_no_word_characters() -> None:
    assert [TERMS[term] for _, _, term in FINDER.find("\ud800tax\udc00 vat")] == ["tax", "vat"]


def test_is_word_is_pythons_backslash_w_for_every_character() -> None:
    word = re.compile(r"\w")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert _is_word(char) == bool(word.match(char)), hex(code)


def test_a_lead_is_the_first_word_without_its_star() -> None:
    assert [lead(t) for t in ("tax", "tax code", "налог*", "социальн* помощ*", "e-gov*")] == [
        "tax", "tax", "налог", "социальн", "e-gov",
    ]  # fmt: skip


def test_no_terms_find_nothing() -> None:
    assert TermFinder([]).find("tax") == []


def test_a_term_given_twice_is_found_as_its_last() -> None:
    assert TermFinder(["tax", "vat", "tax"]).find("tax vat") == [(0, 3, 2), (4, 7, 1)]


# -- generated texts and terms ------------------------------------------------------------

FRAGMENTS = sorted({piece for term in TERMS for piece in re.split(r"[ *]", term) if piece})
LETTERS = "abcxyzаеинсқұәё_019"
PUNCTUATION = " .,;:-'’()\n\t\u00a0«»"
pieces = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.sampled_from(TERMS),
    st.text(alphabet=LETTERS + PUNCTUATION, max_size=4),
    st.sampled_from(["A", "Ё", "TAX", "İ", "\u0301", "ß", "ǅ", "\ud800"]),
)
texts = st.lists(pieces, max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_generated_texts_as_the_reference_finds_them(text: str) -> None:
    normalized = normalize(text)
    assert FINDER.find(normalized) == reference_find(TERMS, normalized)


@settings(max_examples=200, deadline=None)
@given(st.lists(pieces, max_size=20).map("".join), st.lists(pieces, max_size=40).map("".join))
def test_generated_items_as_the_reference_classifies_them(title: str, body: str) -> None:
    assert RULES.classify(title, body) == reference_classify(RULES, title, body)


# Small alphabets so that terms share letters, leads, stems and phrases with each other
# and with the text.
word = st.builds(
    lambda first, rest, stem: first + rest + ("*" if stem else ""),
    st.sampled_from("abаб1_"),
    st.text(alphabet="abаб1_'.-", max_size=3),
    st.booleans(),
)
term = st.lists(word, min_size=1, max_size=3).map(" ".join)
small_text = st.lists(
    st.one_of(st.text(alphabet="abаб1_'.- \n", max_size=5), word.map(lambda w: w.rstrip("*"))),
    max_size=20,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(term, min_size=1, max_size=8), small_text)
def test_generated_terms_and_texts_as_the_reference_finds_them(terms: list[str], text: str) -> None:
    assert TermFinder(terms).find(text) == reference_find(terms, text)
