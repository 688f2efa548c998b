"""Pure snippets of search results (issue 17): the part of a text around its first matched
word, as (text, matched) pieces, for the search page to mark (`<mark>`) after escaping."""

import re

from feeds.text.search_terms import normalise, stem
from feeds.text.searchquery import SearchQuery

_WORD = re.compile(r"[^\W_]+")
WORDS_AROUND = 12  # words shown before the first match; about 40 are shown in all
SNIPPET_WORDS = 40

Piece = tuple[str, bool]


def stems_of(query: SearchQuery) -> frozenset[str]:
    """Every stem of the words a result must hold (excluded words are not marked)."""
    return frozenset(s for term in query.include for forms in term.forms for s in forms)


def snippet(text: str, query: SearchQuery, lang: str) -> list[Piece]:
    """About `SNIPPET_WORDS` words of `text` from a little before its first matched word,
    with the matched words apart; `…` where the text was cut."""
    wanted = stems_of(query)
    found = list(_WORD.finditer(text))
    marked = [stem(normalise(m[0]), lang) in wanted for m in found]
    if not found:
        return [(text, False)] if text else []
    first = marked.index(True) if True in marked else 0
    start = max(0, first - WORDS_AROUND)
    end = min(len(found), start + SNIPPET_WORDS)
    pieces: list[Piece] = [("…", False)] if start else []
    cursor = found[start].start()
    for match, hit in zip(found[start:end], marked[start:end], strict=True):
        if hit:
            pieces += [(text[cursor : match.start()], False), (match[0], True)]
            cursor = match.end()
    pieces.append((text[cursor : found[end - 1].end()], False))
    if end < len(found):
        pieces.append(("…", False))
    return [piece for piece in pieces if piece[0]]
