"""Rendered feed pages shared by every process (the `rendered` table), keyed by the content
version they were rendered at; `feeds.feedservice` decides what goes in."""

from typing import Any

from sqlalchemy import Connection, delete, select

from feeds.schema import rendered
from feeds.store.engine import StoreBase


def drop_rendered_before(connection: Connection, version: int) -> None:
    """Forget the pages of versions before `version`: they will never be served again."""
    connection.execute(delete(rendered).where(rendered.c.version < version))


def _upsert(dialect: str):  # type: ignore[no-untyped-def]
    """The dialect's INSERT with ON CONFLICT (SQLite and PostgreSQL both have it)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


class RenderedMixin(StoreBase):
    def get_rendered(self, key: str, version: int) -> dict[str, Any] | None:
        query = select(rendered).where(rendered.c.key == key, rendered.c.version == version)
        with self._connect() as connection:
            row = connection.execute(query).first()
        return row._asdict() if row else None

    def put_rendered(self, key: str, version: int, values: dict[str, Any]) -> None:
        """Keep a rendered page; a newer version replaces an older one, never the reverse."""
        insert_ = _upsert(self.engine.dialect.name)(rendered).values(
            key=key, version=version, **values
        )
        statement = insert_.on_conflict_do_update(
            index_elements=[rendered.c.key],
            set_={"version": version, **values},
            where=rendered.c.version < insert_.excluded.version,
        )
        with self._begin() as connection:
            connection.execute(statement)
