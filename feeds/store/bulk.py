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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

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


def _memo(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A date or time column's processor remembering its last answers: an ingest's items
    share few dates (a dump's items of one day are published at its midnight, and `updated`
    is `published`), and converting one cost 10 µs (issue 31: 60,000 conversions in a
    20,000-item ingest). Equal datetimes are the same instant, which converts the same."""
    return lru_cache(maxsize=4096)(process)


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
        processors.append(_memo(process) if process and dated else process)
    convert = [(index, process) for index, process in enumerate(processors) if process]
    get = itemgetter(*order)
    one = len(order) == 1

    def values(row: Row) -> tuple[Any, ...]:
        out = [get(row)] if one else list(get(row))
        for index, process in convert:
            out[index] = process(out[index])
        return tuple(out)

    return _Prepared(compiled.string, values)
