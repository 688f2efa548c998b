"""The full-text index of releases (issue 17): one row per item id, holding the stems of its
text (`feeds.text.search_terms`) at their positions, and the condition that narrows a feed page to
the items a `SearchQuery` matches.

Words are normalised and stemmed here, in Python, for both stores; each store's engine only
finds the stems it is given: an FTS5 table with the `ascii` tokenizer on SQLite (it splits the
stored string at the spaces and folds nothing else), a `tsvector` built from an exact literal
('stem':3,9) with a GIN index on PostgreSQL (no parser, no dictionary). So both stores match
the same tokens, and the query sent to them is built from our stems alone, each quoted: no
user text ever reaches FTS5's or tsquery's syntax.

Kept by the store's writes: an ingest's new and changed items (`index_rows`), a followed
item's new text (`index_items`, from `_apply_enrichment`). Topics are not in it: the topic
filter is the feed's own.
"""

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Boolean, Connection, bindparam, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler

from feeds.store.bulk import one_of
from feeds.store.schema import follows, items
from feeds.text.sanitize import html_to_text
from feeds.text.search_terms import FIELD_GAP, document_tokens, positions
from feeds.text.searchquery import SearchQuery, Term

TABLE = "search_index"
BATCH = 500

_SQLITE_DDL = (
    # columnsize=0: no ranking is done, so the sizes of the rows are not kept.
    # `_` a token character: FIELD_GAP takes a position, as the empty ones of PostgreSQL's.
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5(terms, tokenize=\"ascii tokenchars '{FIELD_GAP}'\", "
    "columnsize=0)",
)
_POSTGRES_DDL = (
    f"CREATE TABLE {TABLE} (item_id INTEGER PRIMARY KEY REFERENCES items (id) "
    "ON DELETE CASCADE, terms TSVECTOR NOT NULL)",
    f"CREATE INDEX ix_{TABLE}_terms ON {TABLE} USING gin (terms)",
)


# Bytes of new terms FTS5 gathers in memory before writing them out as a segment of its
# index (`hashsize`, kept in the table's config; SQLite's default is 1 MB). A first ingest
# writes megabytes of terms: with 1 MB segments, merging them was a third of FTS5's insert
# time (issue 31, measured on 20,000 items: 0.85-1.04 s of CPU, 0.61-0.70 s with 8 MB). The
# memory is bounded by this, whatever the dump's size.
FTS5_HASH_BYTES = 8 << 20


def tune_for_ingest(connection: Connection) -> None:
    """Before an ingest's writes to the index: on SQLite, FTS5's in-memory buffer of new
    terms at FTS5_HASH_BYTES (a config row of the index: written once, then unchanged)."""
    if connection.dialect.name != "sqlite":
        return
    config = connection.execute(text(f"SELECT v FROM {TABLE}_config WHERE k = 'hashsize'")).scalar()
    if config != FTS5_HASH_BYTES:
        connection.execute(
            text(f"INSERT INTO {TABLE} ({TABLE}, rank) VALUES ('hashsize', :size)"),
            {"size": FTS5_HASH_BYTES},
        )


def create_index(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    for statement in _SQLITE_DDL if sqlite else _POSTGRES_DDL:
        connection.execute(text(statement))


def drop_index(connection: Connection) -> None:
    connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))


# -- writing ------------------------------------------------------------------------------


def index_items(connection: Connection, ids: Iterable[int]) -> None:
    """(Re)index these items from what they say now: the dump's title and body and what
    following their link brought."""
    ids = list(ids)
    for start in range(0, len(ids), BATCH):
        _index_batch(connection, ids[start : start + BATCH])


def rebuild(connection: Connection) -> None:
    """Index every item (a new index; a change of the normalisation rules)."""
    connection.execute(text(f"DELETE FROM {TABLE}"))
    ids = list(connection.scalars(select(items.c.id).order_by(items.c.id)))
    index_items(connection, ids)


# (title, body, lang) -> the terms of a release's own text (`search_terms.release_terms`); the
# ingest passes those its parsing processes made.
TermsOf = Callable[[str, str, str], str]


def index_rows(
    connection: Connection,
    rows: list[dict[str, Any]],
    terms_of: TermsOf,
    *,
    new: bool = False,
) -> None:
    """(Re)index items an ingest wrote, from their rows (`row_id`, `lang`, `title`, `body`)
    and what following brought them: no second read of their text. `new`: rows just
    inserted, which nothing has followed yet and which have no index row to delete (on
    SQLite, a stale one of a removed item with the same id is replaced by `_write_terms`)."""
    if not rows:
        return
    ids = [row["row_id"] for row in rows]
    followed: dict[int, Any] = {}
    if not new:
        query = select(follows.c.item_id, follows.c.title, follows.c.body_html).where(
            one_of(connection, follows.c.item_id, ids), follows.c.content_hash.is_not(None)
        )
        followed = {row[0]: row[1:] for row in connection.execute(query)}
    terms = [
        (
            row["row_id"],
            _terms((row["title"], row["body"], *followed[row["row_id"]]), row["lang"])
            if row["row_id"] in followed
            else terms_of(row["title"], row["body"], row["lang"]),
        )
        for row in rows
    ]
    _write_terms(connection, [] if new else ids, terms)


def _index_batch(connection: Connection, ids: list[int]) -> None:
    query = (
        select(items.c.id, items.c.lang, items.c.title, items.c.body)
        .add_columns(follows.c.title, follows.c.body_html)
        .outerjoin(follows, (follows.c.item_id == items.c.id) & follows.c.content_hash.is_not(None))
        .where(items.c.id.in_(ids))
    )
    _write(connection, ids, list(connection.execute(query)))


def _write(connection: Connection, ids: list[int], texts: list[Any]) -> None:
    """Replace the index rows of `ids` by those of `texts`: (id, lang, title, body, API title,
    API body HTML) each."""
    _write_terms(connection, ids, [(item[0], _terms(item[2:], item[1])) for item in texts])


def _write_terms(connection: Connection, stale: list[int], rows: list[tuple[int, str]]) -> None:
    """Delete the index rows of the `stale` ids, then write these (id, terms) rows."""
    sqlite = connection.dialect.name == "sqlite"
    key = "rowid" if sqlite else "item_id"
    if stale:
        connection.execute(
            text(f"DELETE FROM {TABLE} WHERE {key} IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": stale},
        )
    if not rows:
        return
    # The driver's executemany with tuples: SQLAlchemy's handling of 500 parameter dicts cost
    # a quarter of the index's write (measured).
    if sqlite:
        # OR REPLACE: FTS5 has no cascade, so a new item could get the id (and index row) of
        # one removed by hand; replacing costs a lookup, deleting first cost 5 % of an ingest.
        insert = f"INSERT OR REPLACE INTO {TABLE} (rowid, terms) VALUES (?, ?)"
        connection.exec_driver_sql(insert, rows)
    else:
        values = [(i, _tsvector(terms.split())) for i, terms in rows]
        insert = f"INSERT INTO {TABLE} (item_id, terms) VALUES (%s, CAST(%s AS tsvector))"
        connection.exec_driver_sql(insert, values)


def _terms(row: Iterable[Any], lang: str) -> str:
    """The indexed terms of a release's fields: title, body, API title, API body HTML."""
    title, body, api_title, api_body_html = row
    api_body = html_to_text(api_body_html) if api_body_html else ""
    fields = [field for field in (title, body, api_title, api_body) if field]
    return " ".join(document_tokens(fields, lang))


def _tsvector(tokens: list[str]) -> str:
    """A tsvector literal: each stem quoted with its positions (stems hold no quote or
    backslash: they are letters and digits)."""
    found: dict[str, list[str]] = {}
    for position, token in positions(tokens):
        found.setdefault(token, []).append(str(position))
    return " ".join(f"'{token}':{','.join(at)}" for token, at in found.items())


# -- matching -----------------------------------------------------------------------------


class Matches(ColumnElement[bool]):
    """`id IN (items matching the included terms) AND id NOT IN (items matching any excluded
    term)`, in each store's own syntax (compiled below)."""

    type = Boolean()
    inherit_cache = False  # the query text is a bound value; not worth a cache key

    def __init__(self, query: SearchQuery, id_column: ColumnElement[Any]) -> None:
        self.query = query
        self.id_column = id_column


def search_condition(query: SearchQuery, id_column: ColumnElement[Any]) -> ColumnElement[bool]:
    return Matches(query, id_column)


Bind = Callable[[str], str]  # a value -> the bound parameter's placeholder in the SQL


@compiles(Matches, "sqlite")
def _sqlite_matches(element: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    def fts(terms: tuple[Term, ...], joiner: str, bind: Bind) -> str:
        expression = f" {joiner} ".join(_fts_term(term) for term in terms)
        return f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH {bind(expression)}"

    query = element.query
    return _in_and_not_in(
        element,
        compiler,
        lambda bind: fts(query.include, "AND", bind),
        lambda bind: fts(query.exclude, "OR", bind),
        **kw,
    )


@compiles(Matches, "postgresql")
def _postgres_matches(element: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    query = element.query
    return _in_and_not_in(
        element,
        compiler,
        lambda bind: _postgres_included(query.include, bind),
        lambda bind: (
            f"SELECT item_id FROM {TABLE} WHERE terms @@ "
            f"CAST({bind(_tsquery(query.exclude, '|'))} AS tsquery)"
        ),
        **kw,
    )


def _postgres_included(terms: tuple[Term, ...], bind: Bind) -> str:
    """The items with every term. With several, the GIN index is asked for one of them (the
    one of the longest stem: longer words are rarer) and the whole query is checked as a
    function, which the planner does not estimate: it multiplies the terms' frequencies as if
    independent, so "declaration goods" (5,406 of 200,000 items, always together) was thought to
    match 55 and read, joined and sorted every match (80 ms) instead of walking the feed's order
    until 51 matched (20 ms)."""
    whole = f"CAST({bind(_tsquery(terms, '&'))} AS tsquery)"
    if len(terms) == 1:
        return f"SELECT item_id FROM {TABLE} WHERE terms @@ {whole}"
    rarest = max(terms, key=lambda term: max(len(s) for forms in term.forms for s in forms))
    one = f"CAST({bind(_tsquery_term(rarest))} AS tsquery)"
    return f"SELECT item_id FROM {TABLE} WHERE terms @@ {one} AND ts_match_vq(terms, {whole})"


def _tsquery(terms: tuple[Term, ...], joiner: str) -> str:
    return f" {joiner} ".join(_tsquery_term(term) for term in terms)


def _in_and_not_in(
    element: Matches,
    compiler: SQLCompiler,
    included: Callable[[Bind], str],
    excluded: Callable[[Bind], str],
    **kw: Any,
) -> str:
    column = compiler.process(element.id_column, **kw)

    def bind(value: str) -> str:
        return compiler.process(bindparam(None, value, unique=True), **kw)

    parts = []
    if element.query.include:
        parts.append(f"{column} IN ({included(bind)})")
    if element.query.exclude:
        parts.append(f"{column} NOT IN ({excluded(bind)})")
    return "(" + " AND ".join(parts) + ")"


def _fts_term(term: Term) -> str:
    """An FTS5 phrase per spelling of the term, each stem quoted: `("a" + "b" OR ...)`."""
    phrases = [" + ".join(f'"{stem}"' for stem in spelling) for spelling in term.spellings()]
    return "(" + " OR ".join(phrases) + ")"


def _tsquery_term(term: Term) -> str:
    """`('a' | 'b') <-> 'c'`: each position's stems, quoted, followed by the next."""
    return (
        "("
        + " <-> ".join(
            "(" + " | ".join(f"'{stem}'" for stem in forms) + ")" for forms in term.forms
        )
        + ")"
    )
