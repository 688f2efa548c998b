"""Topics of an item (SPEC section 4): its dump section, and subject topics found by rules.

Pure apart from `load_topics`, which reads `config/topics.toml` (format documented at the
top of that file). The rules are data; this module only matches them:

- A term is a word or a phrase (words separated by single spaces, matched with any
  whitespace between them), matched case-insensitively on word boundaries; a term ending
  in `*` matches every word that starts with it ("налог*" finds "налоговый", "налогов"),
  also inside a phrase ("социальн* помощ*").
  "ё" and "е", and the two apostrophes ' and ’, are the same letter for matching.
- A topic scores 3 for each distinct term found in the title and 1 for each distinct term
  found in the body; it is assigned when its score reaches its `min_score` (default 2, so
  one term in the title, or two different terms in the body). Every language's terms apply
  to every item: a Russian item can be on a topic through its English title.
- Terms are found by `feeds.text.termfinder` (its docstring says exactly how), built once
  for all topics together and once for each topic's `explain`.

Sections: every dump's section is a topic too. Names listed in the file get the slug and
names given there; any other name gets `slugify(name)` ("Новости мира" -> "novosti-mira"),
or "section-" and a short hash of the name when nothing of it can be spelled in Latin.
"""

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from feeds.errors import SettingsError
from feeds.text.links import LANGUAGE_ORDER, WORD_SLUG
from feeds.text.termfinder import TermFinder
from feeds.tomlfile import read_toml

# Part of the fingerprint: bump it when the matching below changes what rules find, so the
# store reclassifies every item even though the rule file did not change.
MATCHER_VERSION = 1
DEFAULT_MIN_SCORE = 2
TITLE_WEIGHT, BODY_WEIGHT = 3, 1

_TOPIC_KEYS = ("name", "name_ru", "name_kk", "min_score", *LANGUAGE_ORDER)
_SECTION_KEYS = ("slug", "name", "name_ru", "name_kk")
# A word starts with a letter or digit, may hold ' . & + - inside ("e-gov", "u.s.") and may
# end in "*"; a term is words separated by single spaces.
_TERM = re.compile(r"^\w[\w'.&+-]*\*?(?: \w[\w'.&+-]*\*?)*$")


# -- slugs --------------------------------------------------------------------------------

# Russian: a plain ASCII transliteration (BGN/PCGN without diacritics); Kazakh letters as in
# the Kazakh Latin spellings gov.kz itself uses in slugs (қ -> q, ғ -> gh, ң -> ng).
# fmt: off
_CYRILLIC_LATIN = [
    ("абвгдеёжзий", ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y"]),
    ("клмнопрстуф", ["k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f"]),
    ("хцчшщъыьэюя", ["kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"]),
    ("әғқңөұүһі", ["a", "gh", "q", "ng", "o", "u", "u", "h", "i"]),  # Kazakh
    ("єїґў", ["ye", "yi", "g", "u"]),  # Ukrainian, Belarusian: names keep these letters
]
# fmt: on
_CYRILLIC_TO_LATIN = str.maketrans(
    {
        cyr: lat
        for letters, latin in _CYRILLIC_LATIN
        for cyr, lat in zip(letters, latin, strict=True)
    }
)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lower-case Latin letters and digits joined by "-": Cyrillic (Russian and Kazakh) is
    transliterated, accents dropped, anything else becomes a separator. "" when nothing of
    the text can be spelled that way ("!!!", "中文")."""
    latin = text.lower().translate(_CYRILLIC_TO_LATIN)
    decomposed = unicodedata.normalize("NFKD", latin)
    ascii_only = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_SLUG.sub("-", ascii_only).strip("-")


MAX_SLUG = 128  # item_topics.topic is VARCHAR(128), and the web serves no longer slug


def section_slug(name: str) -> str:
    """`slugify(name)`, never empty: "section-" and a short hash of the name instead; a
    slug too long to store or serve is cut and keeps that hash to stay distinct."""
    clean = _clean_name(name)
    digest = hashlib.sha256(clean.encode()).hexdigest()[:8]
    slug = slugify(clean) or f"section-{digest}"
    if len(slug) > MAX_SLUG:
        slug = f"{slug[: MAX_SLUG - len(digest) - 1].rstrip('-')}-{digest}"
    return slug


def _clean_name(name: str) -> str:
    return " ".join(name.split())


def _section_key(name: str) -> str:
    """Section names are looked up without regard to case or spacing."""
    return _clean_name(name).casefold()


# -- topics and rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    slug: str
    name: str
    name_ru: str = ""
    name_kk: str = ""

    def name_in(self, lang: str) -> str:
        """The name in "en", "ru" or "kk", falling back to English where none is given."""
        return {"ru": self.name_ru, "kk": self.name_kk}.get(lang) or self.name


def normalize(text: str) -> str:
    """Text as the rules read it: lower-case, "ё" as "е", one kind of apostrophe."""
    # Two str.replace calls run in C; str.translate with a dict looks up every character.
    return text.lower().replace("ё", "е").replace("’", "'")


@dataclass(frozen=True)
class TopicScore:
    slug: str
    score: int
    title_terms: frozenset[str]
    body_terms: frozenset[str]


@dataclass(frozen=True)
class TopicRule:
    """One subject topic: its terms (all languages together) and the score it needs."""

    topic: Topic
    terms: tuple[str, ...]
    min_score: int = DEFAULT_MIN_SCORE

    @cached_property
    def _finder(self) -> TermFinder:
        # Built when a rule is scored alone (`explain`), not with the rules: an ingest
        # classifies through TopicRules' one finder, and each parsing worker loads the rules.
        return TermFinder([normalize(term) for term in self.terms])

    def found(self, text: str) -> Iterator[str]:
        """The terms found in a normalized text, in order, repeated as often as found.
        Where terms overlap, the longest wins ("tax code", not "tax")."""
        for _, _, index in self._finder.find(text):
            yield self.terms[index]

    def matches(self, title: str, body: str) -> bool:
        """Whether the score of a normalized title and body reaches min_score; stops reading
        as soon as it does."""
        score = TITLE_WEIGHT * len(set(self.found(title)))
        if score >= self.min_score:
            return True
        seen: set[str] = set()
        for term in self.found(body):
            if term not in seen:
                seen.add(term)
                score += BODY_WEIGHT
                if score >= self.min_score:
                    return True
        return False

    def score(self, title: str, body: str) -> TopicScore:
        """The full score of a normalized title and body, with the terms found."""
        in_title, in_body = frozenset(self.found(title)), frozenset(self.found(body))
        total = TITLE_WEIGHT * len(in_title) + BODY_WEIGHT * len(in_body)
        return TopicScore(self.topic.slug, total, in_title, in_body)


class TopicRules:
    """Subject-topic rules and known sections, as read from a topics file."""

    def __init__(self, rules: Sequence[TopicRule], sections: Mapping[str, Topic]) -> None:
        self.rules = tuple(rules)
        self.topics = [rule.topic for rule in self.rules]  # in file order
        self.sections = dict(sections)  # section name as written in the file -> topic
        self._by_key = {_section_key(name): topic for name, topic in self.sections.items()}
        self.fingerprint = _fingerprint(self.rules, self.sections)
        # Every topic's terms in one finder, so an item's text is read once instead of once
        # per topic (11x less scanning; this runs for every item ingested). A term of several
        # topics is one term of the finder; `_owners[i]` is what finding term i gives each.
        owners: dict[str, dict[int, set[str]]] = {}
        for index, rule in enumerate(self.rules):
            for term in rule.terms:
                owners.setdefault(normalize(term), {}).setdefault(index, set()).add(term)
        self._owners = [
            tuple((index, len(terms)) for index, terms in by_rule.items())
            for by_rule in owners.values()
        ]
        self._finder = TermFinder(list(owners))

    def _counts(self, text: str) -> list[int]:
        """For each rule, how many distinct terms of it are found in a normalized text."""
        counts = [0] * len(self.rules)
        for term in {index for _, _, index in self._finder.find(text)}:
            for rule, terms in self._owners[term]:
                counts[rule] += terms
        return counts

    def classify(self, title: str, body: str) -> frozenset[str]:
        """Slugs of the subject topics of an item."""
        in_title, in_body = self._counts(normalize(title)), self._counts(normalize(body))
        return frozenset(
            rule.topic.slug
            for rule, title_terms, body_terms in zip(self.rules, in_title, in_body, strict=True)
            if TITLE_WEIGHT * title_terms + BODY_WEIGHT * body_terms >= rule.min_score
        )

    def explain(self, title: str, body: str) -> list[TopicScore]:
        """Every topic's score and the terms that made it, for people tuning the rules."""
        title, body = normalize(title), normalize(body)
        return [rule.score(title, body) for rule in self.rules]

    def section_topic(self, name: str) -> Topic:
        """The topic of a dump section: as the file defines it, or made from the name."""
        known = self._by_key.get(_section_key(name))
        return known or Topic(slug=section_slug(name), name=_clean_name(name))

    def topics_of(self, title: str, body: str, sections: Iterable[str]) -> frozenset[str]:
        """Every topic slug of an item: its sections' and its subjects' (the store's TopicsOf)."""
        return self.classify(title, body) | self.section_slugs(sections)

    def section_slugs(self, sections: Iterable[str]) -> set[str]:
        return {self.section_topic(name).slug for name in sections if name.strip()}


def _fingerprint(rules: Sequence[TopicRule], sections: Mapping[str, Topic]) -> str:
    """sha256 of what decides an item's topic slugs; names and comments do not count."""
    canonical = {
        "matcher": MATCHER_VERSION,
        "topics": [[rule.topic.slug, rule.min_score, sorted(rule.terms)] for rule in rules],
        "sections": sorted([_section_key(name), topic.slug] for name, topic in sections.items()),
    }
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode()).hexdigest()


# -- reading the file ---------------------------------------------------------------------


def load_topics(path: str | Path) -> TopicRules:
    """Read and check a topics file; every problem raises SettingsError naming the file."""
    return parse_topics(read_toml(path, "topics"), str(path))


def parse_topics(data: Mapping[str, Any], source: str) -> TopicRules:
    """Rules from parsed TOML; `source` names the file in error messages."""
    unknown = sorted(set(data) - {"sections", "topics"})
    if unknown:
        raise SettingsError(
            f"{source}: unknown key '{unknown[0]}' (expected [sections.<name>] and [topics.<slug>])"
        )
    sections = _tables(data, "sections", source)
    topics = _tables(data, "topics", source)
    return TopicRules(
        [_parse_topic(slug, table, source) for slug, table in topics.items()],
        _parse_sections(sections, source),
    )


def _tables(data: Mapping[str, Any], key: str, source: str) -> dict[str, Any]:
    tables = data.get(key, {})
    if not isinstance(tables, dict):
        raise SettingsError(f"{source}: {key} must be tables [{key}.<name>]")
    return tables


def _check_keys(table: Any, known: Sequence[str], where: str) -> None:
    if not isinstance(table, dict):
        raise SettingsError(f"{where}: expected a table")
    unknown = [key for key in table if key not in known]
    if unknown:
        raise SettingsError(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(known)})")


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise SettingsError(f"{where}: {key} must be a string, got {value!r}")
    return value.strip()


def _parse_sections(tables: Mapping[str, Any], source: str) -> dict[str, Topic]:
    sections: dict[str, Topic] = {}
    seen: dict[str, str] = {}
    for name, table in tables.items():
        where = f"{source}: section {name}"
        _check_keys(table, _SECTION_KEYS, where)
        key = _section_key(name)
        if not key:
            raise SettingsError(f"{where}: a section name cannot be empty")
        if key in seen:
            raise SettingsError(f"{where}: same section as {seen[key]} (case and spaces ignored)")
        seen[key] = name
        slug = _text(table, "slug", where) or section_slug(name)
        if not WORD_SLUG.match(slug):
            raise SettingsError(
                f"{where}: slug '{slug}' is not lower-case letters and digits joined by '-'"
            )
        names = {k: _text(table, k, where) for k in ("name_ru", "name_kk")}
        sections[name] = Topic(slug, _text(table, "name", where) or _clean_name(name), **names)
    return sections


def _parse_topic(slug: str, table: Any, source: str) -> TopicRule:
    where = f"{source}: topic {slug}"
    if not WORD_SLUG.match(slug):
        raise SettingsError(
            f"{where}: not a valid slug (lower-case letters and digits joined by '-')"
        )
    _check_keys(table, _TOPIC_KEYS, where)
    names = {key: _text(table, key, where) for key in ("name", "name_ru", "name_kk")}
    if not names["name"]:
        raise SettingsError(f"{where}: missing name")
    terms = [term for lang in LANGUAGE_ORDER for term in _parse_terms(table, lang, where)]
    if not terms:
        raise SettingsError(f"{where}: no terms (give at least one in en, ru or kk)")
    unique = tuple(dict.fromkeys(terms))  # a term repeated (in any case) counts once
    return TopicRule(Topic(slug, **names), unique, _parse_min_score(table, where))


def _parse_terms(table: Mapping[str, Any], lang: str, where: str) -> list[str]:
    terms = table.get(lang, [])
    if not isinstance(terms, list) or not all(isinstance(term, str) for term in terms):
        raise SettingsError(f"{where}: {lang} must be a list of strings")
    checked = []
    for term in terms:
        clean = normalize(term.strip())
        if not clean or clean == "*":
            raise SettingsError(f"{where}: empty term in {lang}")
        if not _TERM.match(clean):
            raise SettingsError(
                f"{where}: invalid term {term!r} in {lang} (expected words separated by "
                "single spaces, each optionally ending in *)"
            )
        checked.append(clean)
    return checked


def _parse_min_score(table: Mapping[str, Any], where: str) -> int:
    value = table.get("min_score", DEFAULT_MIN_SCORE)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(
            f"{where}: min_score must be a whole number of 1 or more, got {value!r}"
        )
    return value
