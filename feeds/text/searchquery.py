"""Pure parsing of a search query (`?q=`, issue 17) into what the store matches.

The language people expect of a search box: every word must match; `"a phrase"` matches
those words in that order; `-word` and `-"a phrase"` exclude; case, accents and word forms do
not matter (`feeds.text.search_terms`). Everything else is text: `AND`, `OR`, `NEAR(`, `*`, `:`
are words or separators, never syntax of a store's full-text engine, because the store builds
its engine's query from the stems here alone. A quote left open runs to the end.
"""

import re
from dataclasses import dataclass
from itertools import product

from feeds.text.search_terms import query_forms, words

MAX_QUERY_CHARS = 200
MAX_TERMS = 12  # words and phrases of a query
MAX_PHRASE_FORMS = 64  # spellings of one phrase in stems (a Cyrillic word may have two)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A term: an optional "-", then a quoted phrase (the quote may stay open) or a bare word.
_TERM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')


class BadSearch(ValueError):
    """A query that cannot be searched; the message says why, without repeating it."""


@dataclass(frozen=True)
class Term:
    """A word or a phrase: its stems at each position (alternatives at one position)."""

    forms: tuple[tuple[str, ...], ...]

    def spellings(self) -> list[tuple[str, ...]]:
        """Every sequence of stems the term matches."""
        return list(product(*self.forms))


@dataclass(frozen=True)
class SearchQuery:
    text: str  # the query as given, controls removed and spaces collapsed: a cache key
    include: tuple[Term, ...]
    exclude: tuple[Term, ...]


def clean(q: str) -> str:
    return " ".join(_CONTROL.sub(" ", q).split())


def quoted(text: str) -> str:
    """A query as a title shows it, between “ ”: its own quotes become ‘ ’ (typographic nesting),
    and a query that is one quoted phrase is shown once quoted (“tax declaration”, not
    “"tax declaration"”). A quote left open is closed, as the search reads it."""
    if text.startswith('"') and '"' not in text[1:-1]:
        phrase = text[1:].removesuffix('"')
        return f"“{phrase}”"
    # Odd parts are inside quotes; an open quote's last part is closed here.
    parts = text.split('"')
    nested = "".join(part if i % 2 == 0 else f"‘{part}’" for i, part in enumerate(parts))
    return f"“{nested}”"


def parse_search(q: str) -> SearchQuery | None:
    """The query; None when it is empty (no search); BadSearch when it is too long or has no
    word to search for."""
    text = clean(q)
    if not text:
        return None
    if len(text) > MAX_QUERY_CHARS:
        raise BadSearch(f"bad q: over {MAX_QUERY_CHARS} characters")
    include: list[Term] = []
    exclude: list[Term] = []
    for match in _TERM.finditer(text):
        found = words(match[2] if match[2] is not None else match[3])
        if not found:
            continue  # only punctuation ("*", ":", "-") or an empty phrase
        term = Term(tuple(query_forms(word) for word in found))
        if len(term.spellings()) > MAX_PHRASE_FORMS:
            raise BadSearch("bad q: a phrase of over six Russian or Kazakh words")
        (exclude if match[1] else include).append(term)
    if not include and not exclude:
        raise BadSearch("bad q: no word to search for")
    if len(include) + len(exclude) > MAX_TERMS:
        raise BadSearch(f"bad q: over {MAX_TERMS} words and phrases")
    return SearchQuery(text, tuple(dict.fromkeys(include)), tuple(dict.fromkeys(exclude)))


def matches(query: SearchQuery, tokens: list[str]) -> bool:
    """Whether a release with these `search_terms.document_tokens` matches: what the store's
    index answers, in plain Python (the tests hold the stores to it)."""
    return all(_has(term, tokens) for term in query.include) and not any(
        _has(term, tokens) for term in query.exclude
    )


def _has(term: Term, tokens: list[str]) -> bool:
    width = len(term.forms)
    for start in range(len(tokens) - width + 1):
        if all(tokens[start + k] in forms for k, forms in enumerate(term.forms)):
            return True
    return False
