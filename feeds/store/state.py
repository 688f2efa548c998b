"""Named values the store keeps (the `state` table): run counts, pauses, the topics
fingerprint, the list of sections, and the content version that rendered pages are keyed by
(read on every feed request, by a reader of its own); and the state of each dump source."""

import contextlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from feeds.errors import StoreUnavailable
from feeds.store.engine import StoreBase
from feeds.store.models import SourceState
from feeds.store.rendered import drop_rendered_before
from feeds.store.schema import sources, state

CONTENT_VERSION = "content_version"
_VERSION_SQL = f"SELECT value FROM state WHERE name = '{CONTENT_VERSION}'"


def read_state(connection: Connection, name: str) -> str | None:
    return connection.scalar(select(state.c.value).where(state.c.name == name))


def set_state(connection: Connection, name: str, value: str) -> None:
    done = connection.execute(update(state).where(state.c.name == name).values(value=value))
    if not done.rowcount:
        connection.execute(insert(state).values(name=name, value=value))


def bump_version(connection: Connection) -> None:
    """Move the content version that rendered feeds are keyed by."""
    version = int(read_state(connection, CONTENT_VERSION) or 0) + 1
    set_state(connection, CONTENT_VERSION, str(version))
    # Pages of older versions will never be served again.
    drop_rendered_before(connection, version)


def record_source(connection: Connection, name: str, values: dict[str, Any]) -> None:
    done = connection.execute(update(sources).where(sources.c.name == name).values(**values))
    if not done.rowcount:
        connection.execute(insert(sources).values(name=name, **values))


class StateMixin(StoreBase):
    def get_state(self, name: str) -> str | None:
        with self._connect() as connection:
            return read_state(connection, name)

    def put_state(self, name: str, value: str) -> None:
        with self._begin() as connection:
            set_state(connection, name, value)

    def record_run(self, run: str, ok: bool, seconds: float, at: datetime) -> None:
        """Count a scheduled run (for /metrics, whichever process serves it)."""
        name = f"runs:{run}"
        with self._begin() as connection:
            recorded = json.loads(read_state(connection, name) or "{}")
            outcome = "ok" if ok else "failed"
            recorded[outcome] = recorded.get(outcome, 0) + 1
            recorded.update(last_seconds=round(seconds, 3), last_at=at.timestamp())
            set_state(connection, name, json.dumps(recorded, sort_keys=True))

    def source_state(self, name: str) -> SourceState | None:
        with self._connect() as connection:
            row = connection.execute(select(sources).where(sources.c.name == name)).first()
        return SourceState(**row._asdict()) if row else None

    def content_version(self) -> int:
        """The version every rendered page is keyed by: read on every feed request, so it
        goes straight to a DB-API connection of this thread (no pool checkout, no statement
        compiling), which takes a few microseconds instead of a hundred.

        A connection the server dropped (a restart, pg_terminate_backend) fails once: the
        read is tried again on a fresh connection, so readers never see it, and the normal
        case costs no extra round trip (a pre-ping would cost one per request)."""
        # Opening the reader fails with SQLAlchemy's errors, reading with the driver's.
        faults = (SQLAlchemyError, self.engine.dialect.loaded_dbapi.Error)
        try:
            return self._read_version()
        except faults:
            self._drop_version_reader()
        try:
            return self._read_version()
        except faults as exc:
            self._drop_version_reader()
            raise StoreUnavailable(f"cannot read the content version: {exc}") from None

    def _read_version(self) -> int:
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = self._version_reader()
        cursor = reader.cursor()
        cursor.execute(_VERSION_SQL)
        row = cursor.fetchone()
        cursor.close()
        return int(row[0]) if row else 0

    def _drop_version_reader(self) -> None:
        reader, self._local.reader = getattr(self._local, "reader", None), None
        if reader is not None:
            # Already broken: closing it only frees the socket.
            with contextlib.suppress(self.engine.dialect.loaded_dbapi.Error):
                reader.close()

    def _version_reader(self) -> Any:
        fairy = self.engine.raw_connection()
        fairy.detach()  # this thread's own, for as long as the thread lives
        connection = fairy.dbapi_connection
        if self.engine.dialect.name == "postgresql":
            connection.autocommit = True  # each read sees the newest commit; no open transaction
        return connection
