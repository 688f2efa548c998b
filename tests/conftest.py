"""Shared fixtures: the bundled sample dumps, a store on a temporary SQLite file or, when
FEEDS_TEST_POSTGRES_URL is set, on a fresh database of a real PostgreSQL."""

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from feeds.following.follow import Follower
from feeds.ingest import Ingester
from feeds.settings import Settings, load_settings
from feeds.store import Store
from feeds.web.app import create_app

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
    with new_postgres_database() as url:
        yield url


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """A brand-new PostgreSQL database, dropped afterwards; the test is skipped, saying
    why, when no PostgreSQL is configured."""
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
def sample_store(database_url: str, settings: Settings) -> Iterator[Store]:
    """A store holding the sample dumps."""
    store = Store(database_url)
    Ingester(store, settings).run(settings.dumps)
    yield store
    store.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(env={}, database_url=database_url, dumps=tuple(map(str, SAMPLE_DUMPS)))


@pytest.fixture
def app(settings: Settings) -> Flask:
    """The web app over a store holding the sample dumps."""
    app = create_app(settings)
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module")
def w3c():
    """The W3C feed validator, fetched from github:w3c/feedvalidator and run locally."""
    from tests import w3c_validator

    try:
        if w3c_validator.validator_dir() is None:
            raise w3c_validator.ValidatorUnavailable("no copy of github:w3c/feedvalidator found")
        w3c_validator.validate(b"<feed xmlns='http://www.w3.org/2005/Atom'/>")
    except w3c_validator.ValidatorUnavailable as exc:
        pytest.skip(
            f"W3C feed validator unavailable ({exc}); set FEEDVALIDATOR_DIR or FEEDVALIDATOR_GIT"
        )
    return w3c_validator


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    """Poll `condition` until it holds or `seconds` pass; its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def app_with_one_followed(settings: Settings, news_id: str, reply: object) -> Flask:
    """The web app over the sample dumps with one release followed to `reply` (a Reply of
    tests.fake_portal); the portal knows no other article."""
    from tests.fake_portal import FakePortal, Reply

    def portal(asked_id: str, asked: int, lang: str) -> object:
        return reply if asked_id == news_id else Reply(404)

    with FakePortal(portal) as fake:  # type: ignore[arg-type]
        settings = replace(settings, govkz_base_url=fake.url, follow_rate=500.0)
        app = create_app(settings)
        store: Store = app.extensions["feeds"].store
        ingester = Ingester(store, settings)
        ingester.run(settings.dumps)
        Follower(store, settings, ingester.rules).run()
    return app
