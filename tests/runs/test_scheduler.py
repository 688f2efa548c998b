"""The scheduler keeps the feeds current by itself, with a short interval for the test."""

import logging
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from feeds.scheduler import Tick, build_scheduler
from feeds.settings import Settings
from feeds.store import Store
from feeds.web.app import create_app
from tests.conftest import SAMPLE_DUMPS, wait_for

INTERVAL = 0.5


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    path = tmp_path / "news.txt"
    shutil.copy(SAMPLE_DUMPS[0], path)
    return path


@pytest.fixture
def running(settings: Settings, dump: Path) -> Iterator[tuple[Settings, Store]]:
    settings = replace(settings, dumps=(str(dump),), ingest_interval=INTERVAL, follow=False)
    store = Store(settings.database_url)
    scheduler = build_scheduler(Tick(store, settings), blocking=False)
    scheduler.start()
    try:
        yield settings, store
    finally:
        scheduler.shutdown(wait=True)
        store.close()


@pytest.fixture
def client(running: tuple[Settings, Store]) -> FlaskClient:
    return create_app(running[0]).test_client()


def test_changed_dump_is_reingested_within_an_interval(
    running: tuple[Settings, Store], client: FlaskClient, dump: Path
) -> None:
    _, store = running
    assert wait_for(lambda: store.count_items() == 19, 5), "the first tick ingests at once"
    etag = client.get("/all.atom").headers["ETag"]
    version = store.content_version()
    time.sleep(INTERVAL * 3)  # three ticks over an unchanged file
    assert store.content_version() == version
    assert client.get("/all.atom").headers["ETag"] == etag
    dump.write_text(
        dump.read_text(encoding="utf-8").replace("Almaty Zoo has launched", "Almaty Zoo launched"),
        encoding="utf-8",
    )
    changed_at = time.monotonic()
    assert wait_for(lambda: client.get("/all.atom").headers["ETag"] != etag, INTERVAL * 2 + 1)
    assert time.monotonic() - changed_at <= INTERVAL * 2 + 1
    assert store.content_version() == version + 1
    assert any(r["body"].startswith("Almaty Zoo launched") for r in store.item_rows())


def test_failed_run_is_logged_and_retried(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    missing = tmp_path / "later.txt"
    settings = replace(settings, dumps=(str(missing),), ingest_interval=INTERVAL, follow=False)
    store = Store(settings.database_url)
    scheduler = build_scheduler(Tick(store, settings), blocking=False)
    scheduler.start()
    try:
        assert wait_for(lambda: any("cannot read" in r.getMessage() for r in caplog.records), 5)
        shutil.copy(SAMPLE_DUMPS[1], missing)
        assert wait_for(lambda: store.count_items() == 18, INTERVAL * 2 + 1)
    finally:
        scheduler.shutdown(wait=True)
        store.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and errors[0] == f"ingest {missing}: cannot read: No such file or directory"


def test_runs_never_overlap(settings: Settings) -> None:
    active, most = 0, 0
    lock = threading.Lock()

    class SlowTick(Tick):
        def __call__(self) -> None:
            nonlocal active, most
            with lock:
                active += 1
                most = max(most, active)
            time.sleep(INTERVAL * 3)  # a run longer than the interval
            with lock:
                active -= 1

    store = Store(settings.database_url)
    scheduler = build_scheduler(
        SlowTick(store, replace(settings, ingest_interval=INTERVAL / 5)), blocking=False
    )
    scheduler.start()
    time.sleep(INTERVAL * 5)
    scheduler.shutdown(wait=True)
    store.close()
    assert most == 1
