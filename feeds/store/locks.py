"""The leader lock that makes exactly one scheduler run against a store: an advisory lock
on PostgreSQL, an `flock` beside the file on SQLite. Either is dropped by the server or the
kernel when its holder dies, so a waiting process takes over without anyone cleaning up."""

import fcntl
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from feeds.store.engine import StoreBase, wrapped_errors


class LeaderLock:
    def try_acquire(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class PostgresLeaderLock(LeaderLock):
    """A session-level advisory lock, held by one dedicated connection: it is released by
    PostgreSQL itself when the holder's connection ends, even after a SIGKILL."""

    KEY = 0x6665656473  # "feeds"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self.connection is None:
            with wrapped_errors():  # the server is down: StoreUnavailable, as for any read
                self.connection = self.engine.connect()
            # Out of the pool: closing it must end the session (and so the lock), not
            # park it, still locked, for the next borrower.
            self.connection.detach()
        try:
            query = text("SELECT pg_try_advisory_lock(:key)")
            got = bool(self.connection.scalar(query, {"key": self.KEY}))
            self.connection.commit()
        except SQLAlchemyError:
            self.release()  # the connection broke: whatever it held is gone
            return False
        return got

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock_all()"))
                self.connection.commit()
            except SQLAlchemyError:
                pass  # a broken session holds no lock any more
            self.connection.close()
            self.connection = None


class FileLeaderLock(LeaderLock):
    """An exclusive flock next to the SQLite file: the kernel drops it when the holder dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: Any = None

    def try_acquire(self) -> bool:
        if self.handle is None:
            self.handle = open(self.path, "a")  # noqa: SIM115 - held open while leading
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


class LocksMixin(StoreBase):
    def leader_lock(self) -> LeaderLock:
        """The lock that makes exactly one scheduler run against this store."""
        if self.engine.dialect.name == "postgresql":
            return PostgresLeaderLock(self.engine)
        return FileLeaderLock(Path(f"{self.engine.url.database or 'memory'}.scheduler.lock"))
