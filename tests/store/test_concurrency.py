"""Readers during writes (issue 9): feeds requested continuously from threads against a real
`gunicorn wsgi:app` while ingests and follows write to the same store. No request fails and
no answer is torn: every feed body is whole and matches its ETag (the first 32 hex digits
of the sha256 of the uncompressed body, "-gz" for the gzipped representation)."""

import itertools
import json
import os
import signal
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import update
from werkzeug import Request, Response

from feeds.following.follow import HOST_PAUSE, Follower
from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.schema import follows
from tests.conftest import SAMPLE_DUMPS, wait_for
from tests.following.test_follow import AnyNews, news
from tests.reliability import (
    children,
    feeds_serve,
    gunicorn_server,
    is_scheduler,
    open_fds,
    raw_get,
    read_in_threads,
    served_paths,
)

SECONDS = float(os.environ.get("CONCURRENCY_SECONDS", "5"))


def fake_portal(httpserver: HTTPServer) -> None:
    """The gov.kz API, answering each request with new text: every follow changes an item."""
    counter = itertools.count()

    def answer(request: Request) -> Response:
        item_id = request.path.rsplit("/", 1)[1]
        body = news(
            item_id, title=f"Followed {item_id} #{next(counter)}", body="<p>Full <b>text</b>.</p>"
        )
        return Response(json.dumps(body), mimetype="application/json")

    httpserver.expect_request(AnyNews()).respond_with_handler(answer)


def edited_copies(folder: Path) -> tuple[list[Path], list[str], list[str]]:
    """Paths to ingest, and the two texts each takes in turn (every item edited)."""
    paths, first, second = [], [], []
    for dump in SAMPLE_DUMPS:
        text = dump.read_text(encoding="utf-8")
        paths.append(folder / dump.name)
        first.append(text)
        second.append(text.replace(" the ", " the very "))
    return paths, first, second


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def writer(
    store: Store, settings: Settings, folder: Path, stop: threading.Event, done: dict
) -> None:
    """Ingest edited dumps, then follow every item again, until told to stop."""
    paths, first, second = edited_copies(folder)
    ingester = Ingester(store, settings)
    follower = Follower(store, settings, ingester.rules)
    for turn in itertools.count():
        if stop.is_set():
            return
        for path, text in zip(paths, first if turn % 2 else second, strict=True):
            write_atomically(path, text)
        reports = ingester.run([str(p) for p in paths])
        done["updated"] += sum(r.counts.updated for r in reports)
        with store.engine.begin() as connection:  # every item due again
            connection.execute(
                update(follows).values(next_try=datetime.now(UTC) - timedelta(seconds=1))
            )
        store.put_state(HOST_PAUSE, "")
        done["followed"] += follower.run(limit=15).changed


def test_readers_during_ingests_and_follows_see_no_error_and_no_torn_answer(
    settings: Settings, database_url: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    fake_portal(httpserver)
    settings = replace(
        settings, govkz_base_url=httpserver.url_for("/").rstrip("/"), follow_rate=1000.0
    )
    store = Store(database_url)
    Ingester(store, settings).run(settings.dumps)
    version = store.content_version()
    env = {"FEEDS_DATABASE_URL": database_url, "FEEDS_FOLLOW": "false"}
    with gunicorn_server(env, tmp_path / "gunicorn.log") as (base, _):
        paths = served_paths(base)
        stop, done = threading.Event(), {"updated": 0, "followed": 0}
        writing = threading.Thread(
            target=writer, args=(store, settings, tmp_path, stop, done), daemon=True
        )
        writing.start()
        try:
            stats = read_in_threads(base, paths, SECONDS, threads=6)
        finally:
            stop.set()
            writing.join(timeout=60)
    store.close()
    print(
        f"\nreaders: {stats.requests} requests, {stats.bytes} bytes, {len(stats.errors)} errors, "
        f"{len(stats.torn)} torn; writer: {done}, content version {version} -> {store.content_version()}"
    )
    assert stats.errors == []
    assert stats.torn == []
    assert stats.requests >= 100 and len(set(paths)) >= 30
    assert done["updated"] >= 37 and done["followed"] >= 10  # the writes really happened
    assert store.content_version() >= version + 10


@pytest.fixture(autouse=True)
def _quiet_follow_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("ERROR", logger="feeds.following.follow")


def test_the_process_that_forks_workers_holds_no_database_connection(tmp_path: Path) -> None:
    """`feeds serve`: gunicorn's master forks every worker, and a fork copies the SQLite
    lock state and PostgreSQL sessions of the forking process. So the master keeps no
    connection, and the scheduler (which writes all the time) is a process of its own;
    soak/test_soak_fork.py shows what a worker forked during a write used to suffer."""
    database = tmp_path / "feeds.sqlite3"
    dump = tmp_path / "news.txt"
    dump.write_bytes(SAMPLE_DUMPS[0].read_bytes())
    env = dict(
        FEEDS_DATABASE_URL=f"sqlite:///{database}", FEEDS_DUMPS=str(dump), FEEDS_FOLLOW="false"
    )
    with feeds_serve(env, tmp_path / "serve.log") as (_, master):
        assert [f for f in open_fds(master.pid) if f.startswith(str(database))] == []
        processes = children(master.pid)
        schedulers = [pid for pid in processes if is_scheduler(pid)]
        assert len(schedulers) == 1 and len(processes) == 3, processes
        assert [
            f for f in open_fds(schedulers[0]) if f.startswith(str(database))
        ]  # it has the store
    assert not any(Path(f"/proc/{pid}").exists() for pid in processes)  # the scheduler stopped too


def test_a_scheduler_process_that_dies_is_started_again(tmp_path: Path) -> None:
    """`feeds serve` watches its scheduler as gunicorn watches its workers: SIGKILLed, it is
    started again, takes over the leader lock that died with it and ingests."""
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "news.txt").write_bytes(SAMPLE_DUMPS[0].read_bytes())
    env = dict(
        FEEDS_DATABASE_URL=f"sqlite:///{tmp_path / 'feeds.sqlite3'}",
        FEEDS_DUMPS=str(dumps / "*.txt"),
        FEEDS_FOLLOW="false",
        FEEDS_INGEST_INTERVAL="1",
    )
    log = tmp_path / "serve.log"
    with feeds_serve(env, log) as (base, master):
        (first,) = [pid for pid in children(master.pid) if is_scheduler(pid)]
        os.kill(first, signal.SIGKILL)

        def another() -> list[int]:
            return [pid for pid in children(master.pid) if is_scheduler(pid) and pid != first]

        assert wait_for(lambda: len(another()) == 1, 30), log.read_text()[-2000:]
        (second,) = another()
        (dumps / "world.txt").write_bytes(SAMPLE_DUMPS[1].read_bytes())

        def items() -> int:
            return json.loads(raw_get(base, "/healthz", timeout=5).body)["items"]

        assert items() == 19
        assert wait_for(lambda: items() == 37, 30), log.read_text()[-2000:]
    assert not Path(f"/proc/{second}").exists()  # stopped with the master, not orphaned
    text = log.read_text()
    assert f"scheduler process {first} exited" in text
    assert text.count("scheduler: this process leads") == 2
