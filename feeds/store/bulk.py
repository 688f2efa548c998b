"""Many rows into one table at once, at the cost of the driver's own executemany on SQLite.

SQLAlchemy's executemany builds every row's parameters in Python (compiled-parameter
construction, checks, each column's type processing): in a first ingest that was a fifth of
the ingest process's time, more than SQLite's own inserts. Here SQLAlchemy still compiles the
statement (once per table and columns) and still converts each value, with the bind processors
of the columns' own types, so rows are stored exactly as `connection.execute(insert(table))`
stores them; only its per-row bookkeeping is skipped. PostgreSQL keeps SQLAlchemy's path: its
"insertmanyvalues" sends hundreds of rows per statement, which psycopg's executemany would
not, and there the round trips cost more than the bookkeeping.
"""

import json
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    Executable,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement

from feeds.store.schema import remembering

Row = Mapping[str, Any]


@dataclass(frozen=True)
class _Prepared:
    sql: str
    values: Callable[[Row], tuple[Any, ...]]  # a row's values in the statement's order


def insert_rows(
    connection: Connection, table: Table, rows: Sequence[Row], *, or_ignore: bool = False
) -> None:
    """Insert these rows (each with the same columns, among them all that have a default in
    Python); `or_ignore`: a row whose key is taken is left out, as ON CONFLICT DO NOTHING."""
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        # The store runs on SQLite or PostgreSQL (docs/DESIGN.md).
        statement = (
            postgresql.insert(table).on_conflict_do_nothing() if or_ignore else insert(table)
        )
        connection.execute(statement, list(rows))
        return
    prepared = _prepare(table, tuple(rows[0]), or_ignore, connection.dialect)
    connection.exec_driver_sql(prepared.sql, list(map(prepared.values, rows)))


def one_of(
    connection: Connection, column: ColumnElement[Any], values: Collection[str | int]
) -> ColumnElement[bool]:
    """`column IN values` (strings or integers) as one bound value, however many: on SQLite
    `IN (SELECT value FROM json_each(?))` of a JSON array, on PostgreSQL `= ANY(?)` of an
    array. An expanding `IN (?, ?, ...)` was compiled again for each list (a new statement
    text, so sqlite3 prepared it again too) and converted each value: 6 % of a first
    ingest's own process (issue 31). Without json_each (SQLite before 3.38 built without
    it), the expanding IN, under the caller's own bound of values a query."""
    dialect = connection.dialect.name
    if dialect == "sqlite" and sqlite_has_json_each():
        # A JSON string of text and integers: json_each gives them back as TEXT and INTEGER,
        # compared as the column's own values (its affinity applies to the left side).
        array = json.dumps(list(values), ensure_ascii=False)
        listed = func.json_each(bindparam(None, array, type_=String)).table_valued("value")
        return column.in_(select(listed.c.value))
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def driver_rows(connection: Connection, query: Executable) -> list[tuple[Any, ...]]:
    """The rows of a query as the driver gives them, without SQLAlchemy's Row objects: only
    for columns whose types convert nothing on either store (text, integers)."""
    result = connection.execute(query)
    try:
        return result.cursor.fetchall()  # type: ignore[attr-defined]
    finally:
        result.close()


@cache
def sqlite_has_json_each() -> bool:
    """Whether this process's SQLite has json_each (built in from 3.38; earlier as an
    option), asked of SQLite itself once."""
    probe = sqlite3.connect(":memory:")
    try:
        return probe.execute("SELECT value FROM json_each('[1]')").fetchall() == [(1,)]
    except sqlite3.OperationalError:  # no such table: json_each
        return False
    finally:
        probe.close()


@lru_cache(maxsize=64)
def _prepare(table: Table, names: tuple[str, ...], or_ignore: bool, dialect: Dialect) -> _Prepared:
    # Python-side defaults are SQLAlchemy's to fill: the rows must carry those columns.
    missing = [c.name for c in table.columns if c.default is not None and c.name not in names]
    if missing:
        raise ValueError(f"insert into {table.name}: rows without {missing}")
    statement = sqlite.insert(table).values({name: bindparam(name) for name in names})
    if or_ignore:
        statement = statement.on_conflict_do_nothing()
    compiled = statement.compile(dialect=dialect)
    order = list(compiled.positiontup or ())  # the ? marks, in the table's column order
    if sorted(order) != sorted(names):
        raise ValueError(f"insert into {table.name}: marks {order} for {names}")
    # The dialect's own type (sqlite.DATETIME for DateTime, and so on), as SQLAlchemy converts.
    types = [table.c[name].type.dialect_impl(dialect) for name in order]
    processors = []
    for name, type_ in zip(order, types, strict=True):
        process = type_.bind_processor(dialect)
        dated = table.c[name].type.python_type in (datetime, date)
        # A date column's conversions remembered, as `UtcDateTime` remembers its own: an
        # ingest's items share few dates, and converting one cost 10 µs.
        processors.append(remembering(process) if dated else process)
    convert = [(index, process) for index, process in enumerate(processors) if process]
    get = itemgetter(*order)
    one = len(order) == 1

    def values(row: Row) -> tuple[Any, ...]:
        out = [get(row)] if one else list(get(row))
        for index, process in convert:
            out[index] = process(out[index])
        return tuple(out)

    return _Prepared(compiled.string, values)
