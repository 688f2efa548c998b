"""Shared fixtures: the bundled sample dumps, a store on a temporary SQLite file or, when
FEEDS_TEST_POSTGRES_URL is set, on a fresh database of a real PostgreSQL."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from feeds.settings import Settings, load_settings
from feeds.store import Store

PROJECT = Path(__file__).resolve().parent.parent
DUMPS = PROJECT / "dumps"
SAMPLE_DUMPS = sorted(DUMPS.glob("*.txt"))
POSTGRES_URL = os.environ.get("FEEDS_TEST_POSTGRES_URL", "")


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return (
            f"PostgreSQL tests: on ({make_url(POSTGRES_URL).render_as_string(hide_password=True)})"
        )
    return "PostgreSQL tests: SKIPPED, set FEEDS_TEST_POSTGRES_URL to run them (.ci/run does)"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL not configured: set FEEDS_TEST_POSTGRES_URL (e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"feeds_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feeds.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(env={}, database_url=database_url, dumps=tuple(map(str, SAMPLE_DUMPS)))
