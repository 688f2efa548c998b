"""Readers through store faults (issue 14): a dropped connection is invisible; while the store
cannot be reached, the feeds this process prepared are served as they were (same bytes, same
validators, 304s), anything else gets 503 with Retry-After, never a 500; the outage is
logged once, and its end; full service when the store is back."""

import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from feeds.ingest import Ingester
from feeds.publish.versioned import VersionedCache
from feeds.settings import Settings, load_settings
from feeds.store import Store
from feeds.web.app import create_app
from feeds.web.stale import STORE_PAGES, Kept
from tests.conftest import SAMPLE_DUMPS, wait_for
from tests.pgserver import own_postgres
from tests.reliability import (
    RawResponse,
    gunicorn_server,
    raw_get,
    read_during,
    served_paths,
    web_workers,
)
from tests.runs.test_gunicorn import free_port

PREPARED = ["/all.atom", "/agencies/mfa.rss", "/topics/news.json", "/all.atom?limit=5"]
NOT_PREPARED = ["/topics/world.atom", "/all.atom?limit=7", "/agencies/mfa", "/", "/feeds.opml"]
GZIP = {"Accept-Encoding": "gzip"}
TERMINATE = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


# -- dropped connections ------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_terminated_version_reader_is_replaced_at_once(postgres_url: str) -> None:
    store = Store(postgres_url)
    Ingester(store, load_settings(env={}, database_url=postgres_url)).run(map(str, SAMPLE_DUMPS))
    assert store.content_version() == 2
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.scalar(text(TERMINATE)) >= 1  # the reader among them
    assert store.content_version() == 2  # no error: read again on a fresh connection
    admin.dispose()
    store.close()


@pytest.mark.postgres
def test_terminated_backends_under_load_make_no_error(postgres_url: str, tmp_path: Path) -> None:
    store = Store(postgres_url)
    Ingester(store, load_settings(env={}, database_url=postgres_url)).run(map(str, SAMPLE_DUMPS))
    store.close()
    env = {"FEEDS_DATABASE_URL": postgres_url, "FEEDS_MAX_VARIANT_RENDERS": "4"}
    with gunicorn_server(env, tmp_path / "gunicorn.log", workers=2, threads=4) as (base, _):
        # Pollers' paths: every feed in every format and a second page, the index and OPML.
        paths = [
            p for p in served_paths(base) if p.split("?")[0].endswith((".atom", ".rss", ".json"))
        ]
        paths += ["/", "/feeds.opml"]
        for _ in range(6):  # every worker prepares them
            for path in paths:
                assert raw_get(base, path).status == 200, path
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        terminated: list[int] = []

        def terminate_repeatedly() -> None:
            with admin.connect() as connection:
                for _ in range(16):
                    terminated.append(connection.scalar(text(TERMINATE)))
                    time.sleep(0.5)

        stats = read_during(base, paths, 4, terminate_repeatedly)
        admin.dispose()
    print(f"\nterminated {sum(terminated)} backends in 16 rounds; {stats.requests} requests")
    assert sum(terminated) >= 16  # every round found our connections again
    assert stats.requests >= 200
    assert (stats.errors, stats.torn) == ([], [])


# -- the store unreachable ------------------------------------------------------------------------


def answers(base: str, paths: list[str]) -> dict[tuple[str, bool], tuple[int, str, bytes]]:
    """(status, ETag, body) of each path, plain and gzipped."""
    found = {}
    for path in paths:
        for gzipped in (False, True):
            answer = raw_get(base, path, GZIP if gzipped else {})
            found[(path, gzipped)] = (answer.status, answer.headers.get("etag", ""), answer.body)
    return found


def test_a_stopped_database_serves_prepared_feeds_and_503_for_the_rest(tmp_path: Path) -> None:
    with own_postgres() as server:
        store = Store(server.url)
        Ingester(store, load_settings(env={}, database_url=server.url)).run(map(str, SAMPLE_DUMPS))
        store.close()
        env = {"FEEDS_DATABASE_URL": server.url}
        log = tmp_path / "gunicorn.log"
        # One worker: which process prepared a feed is then known.
        with gunicorn_server(env, log, workers=1, threads=4) as (base, master):
            prepared = answers(base, PREPARED)
            assert {status for status, _, _ in prepared.values()} == {200}
            server.stop()
            statuses: Counter[int] = Counter()
            for _ in range(5):
                assert answers(base, PREPARED) == prepared  # same bytes, same validators
                for (path, gzipped), (_, etag, _) in prepared.items():
                    headers = {"If-None-Match": etag, **(GZIP if gzipped else {})}
                    answer = raw_get(base, path, headers)
                    assert (answer.status, answer.headers["etag"]) == (304, etag), path
                    statuses[answer.status] += 1
                for path in NOT_PREPARED:
                    answer = raw_get(base, path)
                    assert (answer.status, answer.headers.get("retry-after")) == (503, "30"), path
                    assert answer.body.startswith(b"503 Service Unavailable: the store")
                    statuses[answer.status] += 1
                health = raw_get(base, "/healthz")
                assert health.status == 503 and b'"status":"error"' in health.body
            assert statuses == {304: 40, 503: 25}
            # A worker started during the outage (this one killed) starts, and says 503: it
            # has prepared nothing (gunicorn would halt everything if one failed to start).
            (worker,) = web_workers(master.pid)
            os.kill(worker, signal.SIGKILL)
            assert wait_for(lambda: web_workers(master.pid) not in ([], [worker]), 30)
            assert raw_get(base, "/all.atom").status == 503 and master.poll() is None
            server.start()
            assert wait_for(lambda: raw_get(base, "/healthz").status == 200, 30)
            assert answers(base, PREPARED) == prepared  # the same bytes, made again or shared
            assert {raw_get(base, path).status for path in NOT_PREPARED} == {200}
        logged = log.read_text()
    assert logged.count("store unreachable (") == 2  # once in each worker
    assert logged.count("store unreachable at start") == 1
    assert logged.count("store reachable again") == 1  # the worker that saw it back
    assert " 500 " not in logged and "Traceback" not in logged


def served(settings: Settings) -> Flask:
    app = create_app(settings)
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    return app


@pytest.fixture
def dead_url(database_url: str, tmp_path: Path) -> str:
    """A store of the same kind that cannot be reached."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no such folder' / 'feeds.sqlite3'}"
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/feeds"


@pytest.fixture
def app_pointed_at_a_dead_store(settings: Settings, dead_url: str) -> Iterator[Flask]:
    """An app that prepared PREPARED, then finds its store gone (every thread's
    connections too); the store is given back afterwards."""
    app = served(settings)
    client = app.test_client()
    for path in PREPARED:
        for headers in ({}, GZIP):
            assert client.get(path, headers=headers).status_code == 200
    store = app.extensions["feeds"].store
    live_engine, store.engine = store.engine, create_engine(dead_url)
    store._local = threading.local()  # the version readers of every thread are gone too
    live_engine.dispose()
    yield app
    store.engine = create_engine(settings.database_url)


def test_pointed_at_a_dead_store(app_pointed_at_a_dead_store: Flask, settings: Settings) -> None:
    app = app_pointed_at_a_dead_store
    client = app.test_client()
    for path in PREPARED:
        for headers in ({}, GZIP):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200
            again = client.get(path, headers={"If-None-Match": answer.headers["ETag"], **headers})
            assert (again.status_code, again.headers["ETag"]) == (304, answer.headers["ETag"])
    # In a browser tab a JSON Feed stays JSON (Flask's path serves its copy too); an Atom or
    # RSS URL is the feed's HTML page, which needs the store.
    tabs = {path: client.get(path, headers={"Sec-Fetch-Dest": "document"}) for path in PREPARED}
    assert {
        path: (tab.status_code, tab.headers.get("Retry-After")) for path, tab in tabs.items()
    } == {
        "/all.atom": (503, "30"),
        "/agencies/mfa.rss": (503, "30"),
        "/topics/news.json": (200, None),
        "/all.atom?limit=5": (503, "30"),
    }
    for path in [*NOT_PREPARED, "/items/00000000-0000-0000-0000-000000000000", "/metrics"]:
        answer = client.get(path)
        assert (answer.status_code, answer.headers.get("Retry-After")) == (503, "30"), path
        assert answer.text == (
            "503 Service Unavailable: the store cannot be reached; try again later\n"
        )
    assert client.get("/healthz").status_code == 503
    store = app.extensions["feeds"].store
    store.engine = create_engine(settings.database_url)
    store._local = threading.local()
    assert {client.get(path).status_code for path in PREPARED + NOT_PREPARED} == {200}
    assert client.get("/healthz").status_code == 200


# -- every page of the store's: one stale-if-error rule (issue 30) ---------------------------

BROWSER_TAB = {"Sec-Fetch-Dest": "document"}


def store_pages(client: Any) -> list[tuple[str, dict[str, str]]]:
    """One request of each store-backed route (feeds.web.stale.STORE_PAGES), with the headers
    that choose its answer."""
    uid = json.loads(client.get("/all.json").data)["items"][0]["id"].rsplit(":", 1)[-1]
    return [
        ("/", {}),
        ("/?q=mfa", {}),
        ("/feeds.opml", {}),
        ("/agencies/mfa", {}),
        ("/topics/news", {}),
        (f"/items/{uid}", {}),
        ("/search?q=kazakhstan", {}),
        ("/search.atom?q=kazakhstan", {}),
        ("/all.atom?limit=3", GZIP),
        ("/agencies/mfa.rss", BROWSER_TAB),  # the feed's page at its URL
        ("/topics/news.json?lang=ru", {}),
    ]


def test_every_route_of_the_store_is_kept(app: Flask) -> None:
    """A new route must say whether its content comes from the store."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - STORE_PAGES == {"static", "healthz", "metrics"}
    assert endpoints >= STORE_PAGES


def test_a_dead_store_serves_every_page_served_before_with_its_validators(
    settings: Settings, dead_url: str
) -> None:
    app = served(settings)
    client = app.test_client()
    pages = store_pages(client)
    before = {}
    for path, headers in pages:
        answer = client.get(path, headers=headers)
        assert (answer.status_code, answer.headers.get("ETag", "")[:1]) == (200, '"'), path
        before[path] = answer
    point_at(app, dead_url)
    for path, headers in pages:
        answer = client.get(path, headers=headers)
        kept = before[path]
        assert (answer.status_code, answer.data) == (200, kept.data), path
        for name in ("ETag", "Content-Type", "Vary", "Content-Encoding", "Last-Modified"):
            assert answer.headers.get(name) == kept.headers.get(name), (path, name)
        etag = {"If-None-Match": kept.headers["ETag"], **headers}
        again = client.get(path, headers=etag)
        assert (again.status_code, again.headers["ETag"], again.data) == (
            304,
            kept.headers["ETag"],
            b"",
        )
        head = client.head(path, headers=headers)
        assert (head.status_code, head.data) == (200, b""), path
    # Never answered by this process, another variant of a page, other headers: 503.
    for path, headers in [
        ("/topics/world", {}),
        ("/agencies/mfa?lang=ru", {}),
        ("/?q=world", {}),
        ("/all.atom?limit=4", {}),
        ("/agencies/mfa.rss?lang=kk", BROWSER_TAB),
    ]:
        answer = client.get(path, headers=headers)
        assert (answer.status_code, answer.headers.get("Retry-After")) == (503, "30"), path
    assert client.get("/healthz").status_code == 503
    assert client.get("/metrics").status_code == 503


def point_at(app: Flask, dead_url: str) -> None:
    """The app's store (every thread's connections too) is now one that cannot be reached."""
    store = app.extensions["feeds"].store
    live_engine, store.engine = store.engine, create_engine(dead_url)
    store._local = threading.local()
    live_engine.dispose()


def test_a_stopped_database_serves_every_page_each_worker_served(tmp_path: Path) -> None:
    """Two gunicorn workers, each made to answer in turn (the other stopped with SIGSTOP):
    through a stopped PostgreSQL each serves the OPML, the index and the feed pages it
    served before, with their validators (304 on If-None-Match), and 503 for the rest."""
    with own_postgres() as server:
        store = Store(server.url)
        Ingester(store, load_settings(env={}, database_url=server.url)).run(map(str, SAMPLE_DUMPS))
        store.close()
        env = {"FEEDS_DATABASE_URL": server.url}
        with gunicorn_server(env, tmp_path / "gunicorn.log", workers=2, threads=4) as (
            base,
            master,
        ):
            workers = web_workers(master.pid)
            assert len(workers) == 2
            paths = ["/feeds.opml", "/", "/agencies/mfa", "/topics/news", "/all.atom"]
            served_by: dict[int, dict[str, RawResponse]] = {}
            for worker in workers:
                with only(worker, workers):
                    served_by[worker] = {path: raw_get(base, path) for path in paths}
                    assert {a.status for a in served_by[worker].values()} == {200}
            server.stop()
            for worker in workers:
                with only(worker, workers):
                    for path, kept in served_by[worker].items():
                        answer = raw_get(base, path)
                        assert (answer.status, answer.body) == (200, kept.body), (worker, path)
                        assert answer.headers["etag"] == kept.headers["etag"]
                        again = raw_get(base, path, {"If-None-Match": kept.headers["etag"]})
                        assert (again.status, again.headers["etag"]) == (304, kept.headers["etag"])
                    for path in ["/topics/world", "/agencies/mfa?lang=ru"]:
                        assert raw_get(base, path).status == 503, (worker, path)
                    health = raw_get(base, "/healthz")
                    assert health.status == 503 and b"store unavailable" in health.body
            server.start()
            assert wait_for(lambda: raw_get(base, "/healthz").status == 200, 30)


@contextmanager
def only(worker: int, workers: list[int]) -> Iterator[None]:
    """Only `worker` accepts connections: the others are stopped (briefly: gunicorn's master
    kills a worker silent for 30 s)."""
    others = [pid for pid in workers if pid != worker]
    for pid in others:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in others:
            os.kill(pid, signal.SIGCONT)


def test_a_flood_of_items_and_queries_does_not_push_out_the_kept_index_and_opml(
    settings: Settings, dead_url: str
) -> None:
    app = served(settings)
    client = app.test_client()
    stale = app.extensions["feeds.web.stale"]
    stale.variants = VersionedCache(20_000, Kept.size)  # a few pages' worth
    kept = {path: client.get(path).data for path in ("/", "/feeds.opml", "/agencies/mfa")}
    for n in range(40):
        assert client.get(f"/search?q=flood{n}").status_code == 200
        assert client.get(f"/?q=flood{n}").status_code == 200
    point_at(app, dead_url)
    assert {path: client.get(path).data for path in kept} == kept
    assert client.get("/search?q=flood39").status_code == 200  # the newest query is still kept
    assert client.get("/search?q=flood0").status_code == 503  # pushed out by the others
