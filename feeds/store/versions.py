"""Versions of a release: which one a feed without `?lang=` shows (`items.shown`).

A release's versions are its rows of one `release` key, one per language of their text
(SPEC section 3). Exactly one of them is shown in feeds without `?lang=`: the first of the
LANGUAGES setting's order of preference that it has (feeds.text.links.preferred_language). The
choice depends on which versions exist, never on the order dumps arrived in, and versions
are never deleted, so it only moves when a more preferred version first arrives or the
setting changes.
"""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from feeds.store.bulk import one_of
from feeds.store.engine import StoreBase
from feeds.store.models import Touched
from feeds.store.schema import item_topics, items
from feeds.store.state import bump_version, read_state, set_state
from feeds.text.links import preferred_language

LANGUAGES_STATE = "languages"
_VERSION_COLUMNS = (items.c.id, items.c.release, items.c.lang, items.c.shown, items.c.agency)
_BATCH = 500  # releases looked up per query: under SQLite's bound-parameter limit


def choose_for_new(
    connection: Connection, new_rows: list[dict[str, Any]], preference: Sequence[str]
) -> Touched:
    """Set `shown` on rows about to be inserted and flip the stored versions of their
    releases that a new one displaces; the feeds the flips changed."""
    releases = sorted({row["release"] for row in new_rows})
    stored: list[Any] = []
    for start in range(0, len(releases), _BATCH):
        chunk = releases[start : start + _BATCH]
        query = select(*_VERSION_COLUMNS)
        stored += connection.execute(query.where(one_of(connection, items.c.release, chunk)))
    pairs = [*((r.release, r.lang) for r in stored), *((r["release"], r["lang"]) for r in new_rows)]
    best = _best_versions(pairs, preference)
    for row in new_rows:
        row["shown"] = row["lang"] == best[row["release"]]
    return _flip(connection, [r for r in stored if (r.lang == best[r.release]) != r.shown])


def _best_versions(pairs: Iterable[tuple[str, str]], preference: Sequence[str]) -> dict[str, str]:
    """Release -> the language of its shown version, from (release, language) of versions."""
    languages: dict[str, set[str]] = {}
    for release, lang in pairs:
        languages.setdefault(release, set()).add(lang)
    return {release: preferred_language(found, preference) for release, found in languages.items()}


def _flip(connection: Connection, rows: list[Any]) -> Touched:
    """Turn `shown` over on these stored rows (and their topic rows)."""
    if not rows:
        return Touched()
    values = [{"row_id": row.id, "now_shown": not row.shown} for row in rows]
    connection.execute(
        update(items).where(items.c.id == bindparam("row_id")).values(shown=bindparam("now_shown")),
        values,
    )
    connection.execute(
        update(item_topics)
        .where(item_topics.c.item_id == bindparam("row_id"))
        .values(shown=bindparam("now_shown")),
        values,
    )
    ids = [row.id for row in rows]
    topics: set[str] = set()
    for start in range(0, len(ids), _BATCH):
        query = select(item_topics.c.topic).where(
            one_of(connection, item_topics.c.item_id, ids[start : start + _BATCH])
        )
        topics |= set(connection.scalars(query.distinct()))
    return Touched({row.agency for row in rows if row.agency}, topics)


class VersionsMixin(StoreBase):
    def choose_versions(self, preference: Sequence[str]) -> int:
        """Choose again every release's shown version when the order of preference is not
        the one the store's choices were made with; the number of rows flipped."""
        wanted = json.dumps(list(preference))
        with self._begin() as connection:
            if read_state(connection, LANGUAGES_STATE) == wanted:
                return 0
            query = select(*_VERSION_COLUMNS)
            rows = list(connection.execute(query))
            best = _best_versions(((row.release, row.lang) for row in rows), preference)
            flipped = [row for row in rows if (row.lang == best[row.release]) != row.shown]
            _flip(connection, flipped)
            set_state(connection, LANGUAGES_STATE, wanted)
            if flipped:
                bump_version(connection)
        return len(flipped)
