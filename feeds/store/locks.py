"""The leader lock that makes exactly one scheduler run against a store: an advisory lock
on PostgreSQL, an `flock` beside the file on SQLite. Either is dropped by the server or the
kernel when its holder dies, so a waiting process takes over without anyone cleaning up."""

import fcntl
import os
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
    """An exclusive flock next to the SQLite file: the kernel drops it when the holder dies.
    The holder removes the file when it lets go, and a file nobody holds (its holder was
    killed) is removed by `sweep`; so a process that took the lock on a file then removed
    checks that its file is still the one at the path, else takes it again there."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: Any = None
        self.held = False

    def try_acquire(self) -> bool:
        while True:
            if self.handle is None:
                self.handle = open(self.path, "a")  # noqa: SIM115 - held open while leading
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            if self._at_path():
                self.held = True
                return True
            self._close()  # removed by the holder before us: the lock is the new file's

    def _at_path(self) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(self.handle.fileno()).st_ino
        except FileNotFoundError:
            return False

    def release(self) -> None:
        if self.held:  # removed while still held: no one can be holding another file there
            self.path.unlink(missing_ok=True)
        self._close()

    def _close(self) -> None:
        if self.handle is not None:
            self.handle.close()
        self.handle, self.held = None, False

    def sweep(self) -> bool:
        """Remove the lock file if no process holds it; whether it was removed."""
        if not self.path.exists() or not self.try_acquire():
            self._close()
            return False
        self.release()
        return True


class LocksMixin(StoreBase):
    def leader_lock(self) -> LeaderLock:
        """The lock that makes exactly one scheduler run against this store."""
        if self.engine.dialect.name == "postgresql":
            return PostgresLeaderLock(self.engine)
        return FileLeaderLock(Path(f"{self.engine.url.database or 'memory'}.scheduler.lock"))

    def sweep_leader_lock(self) -> None:
        """Remove an SQLite store's leader lock file left by a killed scheduler (a
        PostgreSQL advisory lock ends with its session)."""
        lock = self.leader_lock()
        if isinstance(lock, FileLeaderLock):
            lock.sweep()
