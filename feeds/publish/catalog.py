"""The catalog of agencies (SPEC section 4): slug -> names, kind and parent.

Pure apart from `load_agencies`, which reads `config/agencies.toml` (format documented at
the top of that file). Every slug gets an `Agency`, also one that is not in the file:

- Its name is made from the slug. A first segment listed in `PREFIX_NAMES` becomes that
  name followed by the rest of the slug ("kgd-turkestan" -> "State Revenue Department:
  Turkestan", "mfa-paris" -> "Diplomatic mission: Paris"); the other segments are expanded
  by `WORD_NAMES` ("vko" -> "East Kazakhstan", "kalasy" -> "City") or title-cased
  ("almaty-bostandyk" -> "Almaty Bostandyk").
- Its parent is the longest known slug that is a hyphen-separated prefix of it: an unknown
  "kgd-x" goes under "kgd", "mfa-x" under "mfa", "vko-altay-x" under "vko-altay" (gov.kz
  names subordinate bodies after their parent this way).
- It is marked `known=False, inferred=True`.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feeds.errors import SettingsError
from feeds.text.links import SLUG
from feeds.tomlfile import read_toml

# First slug segment -> (English name of such bodies, their kind), for unknown slugs.
PREFIX_NAMES: dict[str, tuple[str, str]] = {
    "kgd": ("State Revenue Department", "committee-department"),
    "mfa": ("Diplomatic mission", "embassy"),
}
# Slug words that title-casing would leave unreadable.
WORD_NAMES: dict[str, str] = {
    "vko": "East Kazakhstan",
    "zko": "West Kazakhstan",
    "sko": "North Kazakhstan",
    "uko": "South Kazakhstan",
    "kalasy": "City",
    "audany": "District",
    "oblysy": "Region",
    "obl": "Region",
    "akimat": "Akimat",
    "maslikhat": "Maslikhat",
}
# Kinds of unknown slugs that say what they are.
_KIND_WORDS = {"akimat": "akimat", "maslikhat": "maslikhat"}

_KEYS = ("name", "name_ru", "name_kk", "kind", "parent", "inferred")
_SLUG = re.compile(SLUG)  # what gov.kz links name and the web serves
_SEGMENT_SEPARATORS = re.compile(r"[-_.]+")


@dataclass(frozen=True)
class Agency:
    slug: str
    name: str
    name_ru: str = ""
    name_kk: str = ""
    kind: str = ""  # "" when not known
    parent: str | None = None
    inferred: bool = False
    known: bool = True  # False for a slug that is not in the catalog file

    def name_in(self, lang: str) -> str:
        """The name in "en", "ru" or "kk", falling back to English where none is known."""
        return {"ru": self.name_ru, "kk": self.name_kk}.get(lang) or self.name


class Agencies:
    """The agencies of the catalog file, and readable stand-ins for every other slug."""

    def __init__(self, agencies: Mapping[str, Agency]) -> None:
        """`agencies` in listing order; their parents must be among them (see
        `parse_agencies`, which checks that for a file)."""
        self._agencies = dict(agencies)
        self._children: dict[str, list[str]] = {slug: [] for slug in self._agencies}
        for agency in self._agencies.values():
            if agency.parent is not None:
                self._children.setdefault(agency.parent, []).append(agency.slug)
        # Feeds ask for descendants on every request: computed once here.
        self._descendants = {slug: frozenset(self._walk_down(slug)) for slug in self._agencies}

    def __contains__(self, slug: object) -> bool:
        return slug in self._agencies

    def __len__(self) -> int:
        return len(self._agencies)

    def get(self, slug: str) -> Agency:
        """The catalog's agency, or one made from the slug (see the module docstring)."""
        return self._agencies.get(slug) or self._unknown(slug)

    def all(self) -> list[Agency]:
        """Every agency of the catalog, in file order."""
        return list(self._agencies.values())

    def roots(self) -> list[str]:
        """Slugs of the catalog's agencies without a parent, in file order."""
        return [slug for slug, agency in self._agencies.items() if agency.parent is None]

    def children(self, slug: str) -> list[str]:
        """Direct children in the catalog, in file order."""
        return list(self._children.get(slug, ()))

    def descendants(self, slug: str) -> frozenset[str]:
        """Children, their children and so on, without `slug` itself."""
        return self._descendants.get(slug, frozenset())

    def ancestors(self, slug: str) -> list[str]:
        """Parent, grandparent... up to a root; [] for a root."""
        found: list[str] = []
        parent = self.get(slug).parent
        while parent is not None and parent not in found:  # `not in`: a guard, never a cycle
            found.append(parent)
            parent = self.get(parent).parent
        return found

    def _walk_down(self, slug: str) -> set[str]:
        found: set[str] = set()
        pending = list(self._children.get(slug, ()))
        while pending:
            child = pending.pop()
            if child not in found and child != slug:  # guards against a hand-made cycle
                found.add(child)
                pending.extend(self._children.get(child, ()))
        return found

    def _unknown(self, slug: str) -> Agency:
        return Agency(
            slug=slug,
            name=name_from_slug(slug),
            kind=kind_from_slug(slug),
            parent=self._known_prefix(slug),
            inferred=True,
            known=False,
        )

    def _known_prefix(self, slug: str) -> str | None:
        """The longest catalog slug that is a hyphen-separated prefix of `slug`."""
        parts = slug.split("-")
        for end in range(len(parts) - 1, 0, -1):
            prefix = "-".join(parts[:end])
            if prefix in self._agencies:
                return prefix
        return None


def _words(text: str) -> list[str]:
    return [WORD_NAMES.get(word, word.capitalize()) for word in text.split() if word]


def name_from_slug(slug: str) -> str:
    """A readable English name for a slug that is not in the catalog."""
    words = _SEGMENT_SEPARATORS.sub(" ", slug).split()
    if words and words[0] in PREFIX_NAMES:
        rest = " ".join(_words(" ".join(words[1:])))
        prefix = PREFIX_NAMES[words[0]][0]
        return f"{prefix}: {rest}" if rest else prefix
    return " ".join(_words(" ".join(words))) or slug


def kind_from_slug(slug: str) -> str:
    words = _SEGMENT_SEPARATORS.sub(" ", slug).split()
    if words and words[0] in PREFIX_NAMES:
        return PREFIX_NAMES[words[0]][1]
    return next((_KIND_WORDS[word] for word in reversed(words) if word in _KIND_WORDS), "")


# -- reading the file ---------------------------------------------------------------------


def load_agencies(path: str | Path) -> Agencies:
    """Read and check a catalog file; every problem raises SettingsError naming the file."""
    return parse_agencies(read_toml(path, "agencies"), str(path))


def parse_agencies(data: Mapping[str, Any], source: str) -> Agencies:
    """Agencies from parsed TOML; `source` names the file in error messages."""
    unknown = sorted(set(data) - {"agencies"})
    if unknown:
        raise SettingsError(f"{source}: unknown key '{unknown[0]}' (expected [agencies.<slug>])")
    tables = data.get("agencies", {})
    if not isinstance(tables, dict):
        raise SettingsError(f"{source}: agencies must be tables [agencies.<slug>]")
    agencies = {slug: _parse_agency(slug, table, source) for slug, table in tables.items()}
    _check_parents(agencies, source)
    return Agencies(agencies)


def _parse_agency(slug: str, table: Any, source: str) -> Agency:
    where = f"{source}: agency {slug}"
    if not _SLUG.fullmatch(slug):
        raise SettingsError(
            f"{where}: not a valid slug (lower-case letters, digits, '-' and '_', starting "
            "with a letter or digit, at most 128 characters)"
        )
    if not isinstance(table, dict):
        raise SettingsError(f"{where}: expected a table [agencies.{slug}]")
    unknown = [key for key in table if key not in _KEYS]
    if unknown:
        raise SettingsError(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(_KEYS)})")
    texts = {key: _text(table, key, where) for key in ("name", "name_ru", "name_kk", "kind")}
    if not texts["name"]:
        raise SettingsError(f"{where}: missing name")
    parent = _text(table, "parent", where)
    inferred = table.get("inferred", False)
    if not isinstance(inferred, bool):
        raise SettingsError(f"{where}: inferred must be true or false, got {inferred!r}")
    return Agency(slug=slug, **texts, parent=parent or None, inferred=inferred)


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise SettingsError(f"{where}: {key} must be a string, got {value!r}")
    return value.strip()


def _check_parents(agencies: Mapping[str, Agency], source: str) -> None:
    for agency in agencies.values():
        if agency.parent is not None and agency.parent not in agencies:
            raise SettingsError(
                f"{source}: agency {agency.slug}: parent '{agency.parent}' is not defined"
            )
    for slug in agencies:
        cycle = _cycle_from(slug, agencies)
        if cycle:
            raise SettingsError(f"{source}: agency {slug}: parent cycle {' -> '.join(cycle)}")


def _cycle_from(slug: str, agencies: Mapping[str, Agency]) -> list[str]:
    """[slug, parent, ..., slug] when following parents from `slug` comes back to it."""
    path = [slug]
    parent = agencies[slug].parent
    while parent is not None and parent not in path:
        path.append(parent)
        parent = agencies[parent].parent
    return [*path, slug] if parent == slug else []
