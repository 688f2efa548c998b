"""Where topic terms occur in a normalized text (feeds.text.classify's rules, SPEC section 4).

A term is a word or a phrase of words separated by single spaces, a word ending in `*`
being a stem. `TermFinder(terms).find(text)` gives every term found, as `re.finditer` over
one trie-shaped expression of all of them gives it (the matcher of MATCHER_VERSION 1):

- a term starts at a word start (the character before it is not `\\w`), ends before a
  non-word character or the end of the text (a stem: after the last word character), and a
  phrase's space matches any run of whitespace (`\\s+`);
- scanning goes left to right, and the next term is looked for after the end of the last
  one (no overlaps);
- at one start, the alternatives are tried as the trie orders them: after the same letters,
  more letters first, then the next word of a phrase, then a stem's ending, then the end of
  a word; the first that succeeds wins (so "tax code" before "tax", "taxes" before "tax*").

How: Python's regex engine, scanning for the whole trie, tries it at every word start
(classify was 85 µs of CPU an item of the bench dump so, 41 with this: issue 31). Here a
native Aho-Corasick automaton (ahocorasick_rs, Rust) finds in one pass every place where
some term's literal lead (its first word without the `*`) occurs, about 30 word starts an
item; only there is the trie tried, and only its branch for that first letter, compiled as
its own small expression. Any match contains its term's lead at its start, so no match is
missed, and each one is tried with the very expression it had in the full trie, so it is
the same match. Python's `re` has no search for many literals at once: an alternation of
the 560 leads is tried alternative by alternative, so any `re` form still walks every word
start in the interpreter's engine; the automaton reads the text once, in native code.
"""

import re
from collections.abc import Callable, Sequence
from typing import Any

import ahocorasick_rs

# One find: (start, end, index of the term in the finder's terms).
Found = tuple[int, int, int]

# -- the trie of terms --------------------------------------------------------------------
# The expression for a term is its letters and three markers; the markers cannot occur in a
# term (classify's _TERM allows only word characters and ' . & + - in words).

_GAP, _STEM, _END = "\0gap", "\0stem", "\0end"
_ATOM_REGEX = {_GAP: r"\s+", _STEM: r"\w*", _END: r"(?!\w)"}
# After the same letters, try longer terms first: more letters, then the next word of a
# phrase, then a stem's ending, then the end of a word.
_ATOM_ORDER = {_GAP: 1, _STEM: 2, _END: 3}
_Trie = dict[str | None, Any]  # atom -> subtrie; None -> index of the term ending here


def _atoms(term: str) -> list[str]:
    """A term as letters and markers: "tax re*" -> t a x GAP r e STEM."""
    atoms: list[str] = []
    for index, word in enumerate(term.split(" ")):
        if index:
            atoms.append(_GAP)
        atoms.extend(word.removesuffix("*"))
        if word.endswith("*"):
            atoms.append(_STEM)
    if not term.endswith("*"):
        atoms.append(_END)
    return atoms


def _trie(terms: Sequence[str]) -> _Trie:
    trie: _Trie = {}
    for index, term in enumerate(terms):
        node = trie
        for atom in _atoms(term):
            node = node.setdefault(atom, {})
        node[None] = index  # a term given twice is found as its last, as it always was
    return trie


def _trie_regex(node: _Trie, ends: list[int]) -> str:
    """The expression of a trie, alternatives in _ATOM_ORDER; each term ends in an empty
    group, numbered in the order of `ends`, which gets the term's index appended: a match's
    `lastindex` is the term (that group is the last thing a match goes through)."""
    keys = sorted(
        (key for key in node if key is not None), key=lambda k: (_ATOM_ORDER.get(k, 0), k)
    )
    branches = [
        (_ATOM_REGEX[key] if key in _ATOM_REGEX else re.escape(key)) + _trie_regex(node[key], ends)
        for key in keys
    ]
    if None in node:
        ends.append(node[None])
        branches.append("()")
    return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"


def lead(term: str) -> str:
    """The letters every match of a term starts with: its first word without the `*`."""
    return term.split(" ", 1)[0].removesuffix("*")


# -- the finder ---------------------------------------------------------------------------


class _Branch:
    """The trie's branch for one first letter: its expression and, by group number, its
    terms (ends[0] is never used: groups count from 1)."""

    __slots__ = ("ends", "match")

    def __init__(self, first: str, node: _Trie) -> None:
        ends = [-1]
        pattern = re.compile(re.escape(first) + _trie_regex(node, ends))
        self.match: Callable[[str, int], re.Match[str] | None] = pattern.match
        self.ends: list[int] = ends


# Lone surrogates (text decoded with surrogatepass) cannot be given to the automaton as
# UTF-8. For it they become U+FFFD: neither is a word character, a space or in any term.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _is_word(char: str) -> bool:
    """Python's `\\w` for one character of a str pattern: alphanumeric or "_"."""
    return char.isalnum() or char == "_"


class TermFinder:
    """Finds terms (normalized: see classify.normalize) in normalized text."""

    def __init__(self, terms: Sequence[str]) -> None:
        self.terms = tuple(terms)
        trie = _trie(self.terms)
        self._branches = {first: _Branch(first, node) for first, node in trie.items()}
        leads = sorted({lead(term) for term in self.terms})
        # Standard match kind with overlapping search reports every occurrence of every
        # lead, also one inside another ("tax" in "taxes"); DFA: the fastest search, and
        # the automaton is built once for the rules.
        self._leads = (
            ahocorasick_rs.AhoCorasick(
                leads,
                matchkind=ahocorasick_rs.MatchKind.Standard,
                implementation=ahocorasick_rs.Implementation.DFA,
            )
            if leads
            else None
        )

    def find(self, text: str) -> list[Found]:
        """Every term found in a normalized text, in order: (start, end, term index)."""
        found: list[Found] = []
        end = 0
        branches = self._branches
        for start in self._word_starts(text):
            if start < end:  # inside the last term found
                continue
            branch = branches[text[start]]
            match = branch.match(text, start)
            if match:
                end = match.end()
                found.append((start, end, branch.ends[match.lastindex]))  # type: ignore[index]
        return found

    def _word_starts(self, text: str) -> list[int]:
        """Where some term's lead occurs at a word start, in order: the only places a term
        can start."""
        if self._leads is None:
            return []
        try:
            leads = self._leads.find_matches_as_indexes(text, overlapping=True)
        except UnicodeEncodeError:
            leads = self._leads.find_matches_as_indexes(
                _SURROGATE.sub("\ufffd", text), overlapping=True
            )
        return sorted(
            {start for _, start, _ in leads if not start or not _is_word(text[start - 1])}
        )
