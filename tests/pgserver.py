"""A PostgreSQL server of a test's own: Debian's initdb in a temporary folder and pg_ctl on a
free loopback port, run as the `postgres` OS user, so that a test can stop and start it
without touching the machine's shared server."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<major>/bin holding initdb and pg_ctl."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    return Path(found[-1]).parent if found else None


class OwnPostgres:
    def __init__(self, folder: Path, port: int, bin_dir: Path) -> None:
        self.data = folder / "data"
        self.port = port
        self.bin = bin_dir
        self.log = folder / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/feeds"

    def _as_postgres(self, *args: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{args[0]} failed: {done.stdout}{done.stderr}"

    def init(self) -> None:
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"
        )

    def create_database(self) -> None:
        admin = create_engine(self.url.replace("/feeds", "/postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE feeds"))
        admin.dispose()


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A started server with an empty database `feeds`; stopped and removed afterwards.
    Skips, saying why, where initdb, runuser or the postgres user are missing."""
    from tests.runs.test_gunicorn import free_port

    bin_dir = postgres_bin()
    if bin_dir is None or shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip(
            "no PostgreSQL server of our own: needs Debian's /usr/lib/postgresql/*/bin/initdb, "
            "runuser and root (to run it as the postgres user)"
        )
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no PostgreSQL server of our own: no `postgres` OS user")
    folder = Path(tempfile.mkdtemp(prefix="feeds-own-pg-"))
    os.chown(folder, user.pw_uid, user.pw_gid)  # the server's files are the postgres user's
    server = OwnPostgres(folder, free_port(), bin_dir)
    try:
        server.init()
        server.start()
        server.create_database()
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
