"""`schema.UtcDateTime` remembers its conversions (issue 31): what it binds and reads is what
the conversions themselves give, for repeated instants, the same instant in other zones,
and after a naive datetime was refused."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, select

from feeds.store import Store
from feeds.store.schema import UtcDateTime, sources

ALMATY = timezone(timedelta(hours=5))
INSTANTS = [
    datetime(2026, 1, 9, 19, 0, tzinfo=UTC),
    datetime(2026, 1, 10, 0, 0, tzinfo=ALMATY),  # the same instant as the first
    datetime(2026, 12, 1, 10, 30, 15, 123456, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-11))),
]


def unremembered(value: datetime | None, dialect: object) -> object:
    """The bound value without the memo: our conversion, then the dialect's DateTime's."""
    naive = UtcDateTime().process_bind_param(value, dialect)  # type: ignore[arg-type]
    process = DateTime().dialect_impl(dialect).bind_processor(dialect)  # type: ignore[arg-type]
    return process(naive) if process and naive is not None else naive


def test_bound_values_are_the_conversions_own_however_often_asked(store: Store) -> None:
    dialect = store.engine.dialect
    process = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    for value in [*INSTANTS, *INSTANTS, None]:
        assert process(value) == unremembered(value, dialect)
    assert process(INSTANTS[0]) == process(INSTANTS[1])
    for _ in range(2):  # refused each time: an exception is not remembered
        with pytest.raises(ValueError, match="naive datetime"):
            process(datetime(2026, 1, 9, 19, 0))


def test_values_read_back_are_aware_utc_and_equal_to_those_written(store: Store) -> None:
    rows = [
        {"name": f"s{i}", "last_ingest": value, "items_found": 0, "problems": 0}
        for i, value in enumerate([*INSTANTS, *INSTANTS, None])
    ]
    with store.engine.begin() as connection:
        connection.execute(sources.insert(), rows)
        read = connection.execute(select(sources.c.name, sources.c.last_ingest)).all()
    found = dict(read)  # type: ignore[arg-type]
    for row in rows:
        value = found[row["name"]]
        assert value == row["last_ingest"]
        assert value is None or (value.tzinfo is UTC and value.utcoffset() == timedelta(0))
