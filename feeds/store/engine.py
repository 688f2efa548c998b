"""The store's engine: the database URL opened (SQLite tuned for a reader beside a writer),
the schema migrated by Alembic, and the one place where SQLAlchemy's errors become ours.

Every part of the store (the mixins of `feeds.store.Store`) reaches the database through
`StoreBase._connect` / `_begin`, so that no SQLAlchemy exception leaves the package: an
operational failure comes out as `StoreUnavailable`, any other as `StoreError`.
"""

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from feeds.errors import StoreDisconnected, StoreError, StoreUnavailable

SQLITE_BUSY_SECONDS = 30  # how long a connection waits for another process's lock
# The page size of a new store's file (SQLite's default is 4096; an existing file keeps its
# own, the pragma is then a no-op). An item's row is about 2.3 kB (its title and body): two
# do not fit in a 4 kB page, so a third of the items table was empty space. With 8 kB pages
# a 20,000-item store is 131 MB instead of 143, and the first ingest's commit, which writes
# and checkpoints all of it, takes 0.33 s instead of 0.44 (issue 31, paired runs).
SQLITE_PAGE_BYTES = 8192


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets feeds be read while an ingest writes; the busy timeout makes a second
    # writer wait instead of failing at once. It is set first (and by connect's `timeout`)
    # so that every statement after it waits.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")  # before WAL: then it is fixed
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """`PRAGMA journal_mode=WAL`, tried again while another process holds the write lock.
    Processes opening a new store at once race to switch it: the switch reads the file,
    then asks for the write lock, and SQLite refuses a reader's upgrade at once while
    another process writes (waiting could deadlock), whatever the busy timeout. One of four
    processes starting together died of that ("database is locked", issue 30); the winner's
    switch takes a moment, after which the file is in WAL and the pragma changes nothing."""
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


CONNECT_TIMEOUT = 5  # seconds


def _connect_args(url: URL) -> dict[str, Any]:
    # An unreachable PostgreSQL host must fail a request in seconds, not hang its worker
    # (libpq waits forever by default); a URL's own connect_timeout wins.
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        return {"connect_timeout": CONNECT_TIMEOUT}
    if url.get_backend_name() == "sqlite" and "timeout" not in url.query:
        return {"timeout": SQLITE_BUSY_SECONDS}  # sqlite3's busy wait from the open on
    return {}


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"DATABASE_URL {url!r} is not an SQLAlchemy URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        # A ping before each checkout finds PostgreSQL connections a restart broke; an
        # SQLite file cannot go away under us, and the ping would cost every request.
        engine = create_engine(
            parsed,
            pool_pre_ping=parsed.get_backend_name() != "sqlite",
            connect_args=_connect_args(parsed),
        )
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"DATABASE_URL {parsed!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("feeds.store") / "migrations"))
    config.attributes["connection"] = connection
    return config


# sqlite3 raises OperationalError for mistakes in SQL too ("no such column"); these of its
# messages say the database itself failed.
_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o", "readonly", "full")


def is_unavailable(exc: SQLAlchemyError) -> bool:
    """Whether the database failed rather than the statement: worth a retry, not a bug."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError) and type(exc.orig).__module__ == "sqlite3":
        message = str(exc.orig).lower()
        return any(sign in message for sign in _SQLITE_UNAVAILABLE)
    return isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout)


def store_error(exc: SQLAlchemyError) -> StoreError:
    """Our error for one of SQLAlchemy's; the SQLAlchemy one stays its `__cause__`."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    # The driver's first line says what failed; the rest (SQL, parameters) is in the cause.
    reason = next(iter(str(cause).strip().splitlines()), "") or type(cause).__name__
    kind = StoreUnavailable if is_unavailable(exc) else StoreError
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        kind = StoreDisconnected
    return kind(f"{type(exc).__name__}: {reason}")


@contextmanager
def wrapped_errors() -> Iterator[None]:
    try:
        yield
    except SQLAlchemyError as exc:
        raise store_error(exc) from exc


MIGRATION_LOCK = 0x6D69677261  # "migra": an advisory lock key of its own (not the leader's)


def _lock_for_migration(connection: Connection) -> None:
    """Make the upgrade one transaction that a second process starting at once waits for,
    then finds the schema current: two processes on a new store used to race to CREATE
    TABLE, and the loser failed to start."""
    if connection.dialect.name == "sqlite":
        # pysqlite runs DDL outside any transaction: killed between two CREATE TABLEs, a
        # first start left half a schema that no later start could migrate. An explicit
        # BEGIN makes it one transaction; IMMEDIATE takes the write lock at once.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        # Released with the transaction, and by the server if this process dies.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


class StoreBase:
    """What every part of the store shares: the engine, per-thread resources, the schema's
    revision, and connections whose failures come out as `StoreError`s."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._local = threading.local()  # per-thread resources: the version reader (state.py)
        if migrate:
            self.migrate()

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision (a no-op when current)."""
        try:
            with self.engine.begin() as connection:
                _lock_for_migration(connection)
                config = alembic_config(connection)
                head = ScriptDirectory.from_config(config).get_current_head()
                if MigrationContext.configure(connection).get_current_revision() != head:
                    command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open or migrate the store at {self.engine.url!r}: {exc}"
            ) from None

    def revision(self) -> str | None:
        """The schema revision the database is at (None: no schema yet)."""
        try:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {self.engine.url!r}: {exc}") from None

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """A connection for reading (SQLAlchemy's errors wrapped)."""
        with wrapped_errors(), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A connection in one transaction, committed at the end unless something raised."""
        with wrapped_errors(), self.engine.begin() as connection:
            yield connection
