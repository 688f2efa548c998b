"""Rendered feed pages shared by every process (the `rendered` table), keyed by the content
version they were rendered at; `feeds.publish.feedservice` decides what goes in."""

from typing import Any

from sqlalchemy import Connection, delete, func, select

from feeds.store.engine import StoreBase
from feeds.store.schema import rendered, state

PAGES_FINGERPRINT = "pages_fingerprint"


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

    def keep_pages_of(self, fingerprint: str) -> None:
        """Delete the shared pages (and Summary) made with another fingerprint of catalog,
        topic names, templates and code (feeds.publish.fingerprint): their keys include it, so they
        would never be read again. Called when a web process starts."""
        with self._begin() as connection:
            stored = connection.scalar(
                select(state.c.value).where(state.c.name == PAGES_FINGERPRINT)
            )
            if stored == fingerprint:
                return
            connection.execute(delete(rendered))
            # Workers start at once: an upsert, so that the second one does not fail.
            insert_ = _upsert(self.engine.dialect.name)(state).values(
                name=PAGES_FINGERPRINT, value=fingerprint
            )
            connection.execute(
                insert_.on_conflict_do_update(
                    index_elements=[state.c.name], set_={"value": fingerprint}
                )
            )

    def rendered_keys(self) -> list[tuple[str, int, int]]:
        """(key, version, bytes) of every shared page, for inspection and tests."""
        size = func.length(rendered.c.body) + func.length(rendered.c.gzipped)
        query = select(rendered.c.key, rendered.c.version, size).order_by(rendered.c.key)
        with self._connect() as connection:
            return [tuple(row) for row in connection.execute(query)]
