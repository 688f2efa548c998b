"""Following gov.kz links against a real HTTP server on 127.0.0.1 playing the portal's API."""

import itertools
import json
import logging
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from pytest_httpserver.httpserver import URIPattern
from werkzeug import Request, Response

from feeds.following.follow import HOST_PAUSE, Follower
from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.store import Store
from feeds.web.app import create_app
from tests.fake_portal import RawHeaders
from tests.runs.test_gunicorn import free_port

API = "/api/v1/public/content-manager/news/{}"
MOD_ONLY_SOURCE = "1139110"  # the item whose dump body is only its Source line
LOST_LETTER = "1129274"  # "oday, on December 19, 2025, the head of the district..."


class AnyNews(URIPattern):
    def match(self, uri: str) -> bool:
        return uri.startswith(API.format(""))


def news(item_id: str, **fields: object) -> dict[str, object]:
    return {
        "id": int(item_id),
        "title": f"Title {item_id}",
        "body": f"<p>Body of {item_id}.</p>",
        "created_date": "2026-01-09T10:15:00.000+00:00",
        "heropic": None,
        "short_description": "",
        **fields,
    }


@pytest.fixture
def app(settings: Settings, httpserver: HTTPServer) -> Flask:
    settings = _with(
        settings,
        govkz_base_url=httpserver.url_for("/").rstrip("/"),
        follow_rate=50.0,
        fetch_timeout=2.0,
    )
    app = create_app(settings)
    app.config["FEEDS_SETTINGS"] = settings
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    return app


def _with(settings: Settings, **changes: object) -> Settings:
    return replace(settings, **changes)


def follower(app: Flask, **changes: object) -> Follower:
    settings = _with(app.config["FEEDS_SETTINGS"], **changes)
    store: Store = app.extensions["feeds"].store
    return Follower(store, settings, Ingester(store, settings).rules)


def state_of(app: Flask, govkz_id: str) -> dict:
    store: Store = app.extensions["feeds"].store
    (row,) = [r for r in store.item_rows() if r["govkz_id"] == govkz_id]
    return store.follow_state(row["id"])


def only(app: Flask, httpserver: HTTPServer, govkz_id: str) -> None:
    """Make every other item not due, so a run asks for this one item."""
    store: Store = app.extensions["feeds"].store
    for row in store.item_rows():
        if row["govkz_id"] and row["govkz_id"] != govkz_id:
            store.save_follow_failure(
                row["id"], "pending", "not in this test", datetime.now(UTC) + timedelta(days=1)
            )


def test_enrichment_of_sample_items(app: Flask, httpserver: HTTPServer) -> None:
    httpserver.expect_request(API.format(MOD_ONLY_SOURCE)).respond_with_json(
        news(
            MOD_ONLY_SOURCE,
            title="The Smart Military Registration and Enlistment Office project",
            body='<p>Certificates of fitness are now issued online.</p><p><img src="/uploads/2026/1/9/a.jpg"></p>',
            heropic="/uploads/2026/1/9/hero.jpg",
        )
    )
    httpserver.expect_request(API.format(LOST_LETTER)).respond_with_json(
        news(
            LOST_LETTER,
            title="Today, on December 19, 2025, the head of the district Akim's office met staff",
            created_date="2025-12-19T00:00:00.000+00:00",
        )
    )
    only(app, httpserver, MOD_ONLY_SOURCE)
    store: Store = app.extensions["feeds"].store
    (lost,) = [r for r in store.item_rows() if r["govkz_id"] == LOST_LETTER]
    store.save_follow_failure(lost["id"], "pending", "", datetime.now(UTC) - timedelta(seconds=1))
    client = app.test_client()
    before = client.get("/all.atom?limit=500")
    report = follower(app).run()
    assert (report.attempted, report.changed, report.failed) == (2, 2, 0)
    after = client.get("/all.atom?limit=500")
    assert after.headers["ETag"] != before.headers["ETag"]
    entries = {e.id: e for e in feedparser.parse(after.data).entries}
    mod = next(e for e in entries.values() if e.link.endswith(f"/{MOD_ONLY_SOURCE}?lang=en"))
    assert mod.title == "The Smart Military Registration and Enlistment Office project"
    assert mod.content[0].value == (
        '<p>Certificates of fitness are now issued online.</p><p><img src="https://www.gov.kz/uploads/2026/1/9/a.jpg" /></p>'
    )  # as feedparser re-serializes it
    assert mod.published == "2026-01-09T15:15:00+05:00"
    assert [link.href for link in mod.links if link.rel == "enclosure"] == [
        "https://www.gov.kz/uploads/2026/1/9/hero.jpg"
    ]
    lost_entry = next(e for e in entries.values() if e.link.endswith(f"/{LOST_LETTER}?lang=en"))
    assert (
        lost_entry.title
        == "Today, on December 19, 2025, the head of the district Akim's office met staff"
    )
    assert (
        lost_entry.published == "2025-12-19T00:00:00+05:00"
    )  # the API's "unknown time" keeps the dump's day
    request, _ = httpserver.log[0]
    assert request.headers["Accept-Language"] == "en"  # the text's language, not the link's kk
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("feeds/0.1.0 (+https://")
    # The same answers again change nothing: no re-render, same validators.
    for govkz_id in (MOD_ONLY_SOURCE, LOST_LETTER):
        (row,) = [r for r in store.item_rows() if r["govkz_id"] == govkz_id]
        store.save_follow_failure(
            row["id"], "pending", "", datetime.now(UTC) - timedelta(seconds=1)
        )
    version = store.content_version()
    again = follower(app).run()
    assert (again.attempted, again.changed, again.unchanged) == (2, 0, 2)
    assert store.content_version() == version
    assert client.get("/all.atom?limit=500").headers["ETag"] == after.headers["ETag"]
    assert state_of(app, MOD_ONLY_SOURCE)["status"] == "ok"


def test_followed_html_is_sanitized(app: Flask, httpserver: HTTPServer) -> None:
    evil = (
        '<p onclick="steal()">Hi<script>alert(1)</script><a href="javascript:alert(2)">x</a>'
        '<iframe src="https://evil.example/"></iframe><img src=x onerror="alert(3)"></p>'
    )
    httpserver.expect_request(API.format(MOD_ONLY_SOURCE)).respond_with_json(
        news(MOD_ONLY_SOURCE, body=evil)
    )
    only(app, httpserver, MOD_ONLY_SOURCE)
    follower(app).run()
    feed = app.test_client().get("/agencies/mod.atom").data
    entry = next(
        e
        for e in feedparser.parse(feed, sanitize_html=False).entries
        if e.link.endswith(MOD_ONLY_SOURCE + "?lang=en")
    )
    assert (
        entry.content[0].value
        == '<p>Hi<a rel="noopener noreferrer nofollow">x</a><img src="https://www.gov.kz/x" /></p>'
    )


@pytest.mark.parametrize(
    ("respond", "status", "error", "wait"),
    [
        (lambda: Response("boom", status=500), "failed", "HTTP 500", timedelta(minutes=15)),
        (lambda: Response("nope", status=404), "gone", "HTTP 404", timedelta(days=7)),
        (lambda: Response("no", status=403), "gone", "HTTP 403", timedelta(days=7)),
        (lambda: Response("gone", status=410), "gone", "HTTP 410", None),
        (
            lambda: Response("{not json", mimetype="application/json"),
            "failed",
            "invalid JSON (JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
            timedelta(minutes=15),
        ),
        (
            lambda: Response(json.dumps([1, 2]), mimetype="application/json"),
            "failed",
            "JSON list, not an object",
            timedelta(minutes=15),
        ),
        (
            lambda: Response(b"x" * 20_000_000),
            "failed",
            "body of 20000000 bytes is over the limit of 2000000 bytes",
            timedelta(days=7),
        ),
        (
            lambda: Response(b"x" * 1_000_000 for _ in range(20)),
            "failed",
            "body is over the limit of 2000000 bytes",
            timedelta(days=7),
        ),
    ],
)
def test_item_faults_leave_backoff_state(
    app: Flask, httpserver: HTTPServer, respond, status: str, error: str, wait
) -> None:
    httpserver.expect_request(API.format(MOD_ONLY_SOURCE)).respond_with_handler(
        lambda request: respond()
    )
    only(app, httpserver, MOD_ONLY_SOURCE)
    client = app.test_client()
    etag = client.get("/all.atom").headers["ETag"]
    started = datetime.now(UTC)
    report = follower(app).run()
    assert (report.attempted, report.failed) == (1, 1)
    state = state_of(app, MOD_ONLY_SOURCE)
    url = httpserver.url_for(API.format(MOD_ONLY_SOURCE))
    assert (state["status"], state["attempts"], state["last_error"]) == (
        status,
        1,
        f"{url}: {error}",
    )
    if wait is None:
        assert state["next_try"] is None
    else:
        assert started + wait <= state["next_try"] <= datetime.now(UTC) + wait
    assert client.get("/all.atom").headers["ETag"] == etag  # dump content still served
    expected_requests = (
        3 if status == "failed" and error == "HTTP 500" else 1
    )  # two quick retries on 5xx
    assert len(httpserver.log) == expected_requests


@pytest.mark.parametrize(
    ("retry_after", "seconds"),
    [("120", 120), (None, 900), ("Wed, 21 Oct 2099 07:28:00 GMT", 86400)],
)
@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_pauses_the_host(
    app: Flask, httpserver: HTTPServer, code: int, retry_after: str | None, seconds: int
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    httpserver.expect_request(API.format(MOD_ONLY_SOURCE)).respond_with_data(
        "slow down", status=code, headers=headers
    )
    only(app, httpserver, MOD_ONLY_SOURCE)
    started = datetime.now(UTC)
    report = follower(app).run()
    assert report.attempted == 1 and len(httpserver.log) == 1  # the first 429 stops the run
    assert (
        started + timedelta(seconds=seconds)
        <= report.host_paused_until
        <= datetime.now(UTC) + timedelta(seconds=seconds)
    )
    assert state_of(app, MOD_ONLY_SOURCE)["attempts"] == 0  # waiting is not the item's failure
    again = follower(app).run()
    assert again.attempted == 0 and len(httpserver.log) == 1  # paused: no request at all


def test_redirects_stay_on_the_portal(app: Flask, httpserver: HTTPServer) -> None:
    other = HTTPServer(host="127.0.0.1", port=free_port())
    other.start()
    try:
        other.expect_request("/steal").respond_with_json(news(MOD_ONLY_SOURCE))
        httpserver.expect_request(API.format(MOD_ONLY_SOURCE)).respond_with_data(
            "", status=302, headers={"Location": other.url_for("/steal")}
        )
        httpserver.expect_request(API.format(LOST_LETTER)).respond_with_data(
            "", status=301, headers={"Location": "/moved/" + LOST_LETTER}
        )
        httpserver.expect_request("/moved/" + LOST_LETTER).respond_with_json(news(LOST_LETTER))
        only(app, httpserver, MOD_ONLY_SOURCE)
        store: Store = app.extensions["feeds"].store
        (lost,) = [r for r in store.item_rows() if r["govkz_id"] == LOST_LETTER]
        store.save_follow_failure(
            lost["id"], "pending", "", datetime.now(UTC) - timedelta(seconds=1)
        )
        report = follower(app).run()
        assert (report.attempted, report.changed, report.failed) == (2, 1, 1)
        url = httpserver.url_for(API.format(MOD_ONLY_SOURCE))
        assert (
            state_of(app, MOD_ONLY_SOURCE)["last_error"]
            == f"{url}: redirect to another host (127.0.0.1) refused"
        )
        assert other.log == []
        assert state_of(app, LOST_LETTER)["status"] == "ok"
    finally:
        other.stop()


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("https://[::1/x", "a URL urllib cannot parse, asked or redirected to (Invalid IPv6 URL)"),
        (
            "https://www.gov.kz:port/x",
            "redirect to 'https://www.gov.kz:port/x', not a URL, refused",
        ),
    ],
)
def test_a_redirect_to_what_urllib_refuses_fails_that_item_only(
    app: Flask, httpserver: HTTPServer, location: str, error: str
) -> None:
    """urlsplit raises ValueError for these; the run used to stop at the first."""
    httpserver.expect_request(API.format(MOD_ONLY_SOURCE)).respond_with_handler(
        lambda request: RawHeaders("", status=302, headers={"Location": location})
    )
    httpserver.expect_request(API.format(LOST_LETTER)).respond_with_json(news(LOST_LETTER))
    only(app, httpserver, MOD_ONLY_SOURCE)
    store: Store = app.extensions["feeds"].store
    (lost,) = [r for r in store.item_rows() if r["govkz_id"] == LOST_LETTER]
    store.save_follow_failure(lost["id"], "pending", "", datetime.now(UTC) - timedelta(seconds=1))
    report = follower(app).run()
    assert (report.attempted, report.changed, report.failed) == (2, 1, 1)
    url = httpserver.url_for(API.format(MOD_ONLY_SOURCE))
    assert state_of(app, MOD_ONLY_SOURCE)["last_error"] == f"{url}: {error}"
    assert state_of(app, LOST_LETTER)["status"] == "ok"


def test_slow_answer_times_out_and_backs_off_the_item(app: Flask, httpserver: HTTPServer) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response(json.dumps(news(MOD_ONLY_SOURCE)), mimetype="application/json")

    httpserver.expect_request(API.format(MOD_ONLY_SOURCE)).respond_with_handler(slow)
    only(app, httpserver, MOD_ONLY_SOURCE)
    try:
        report = follower(app, fetch_timeout=0.5).run()
    finally:
        release.set()
    assert (report.attempted, report.failed, report.host_paused_until) == (1, 1, None)
    assert len(httpserver.log) <= 1  # asked once: a timeout is not retried at once
    state = state_of(app, MOD_ONLY_SOURCE)
    url = httpserver.url_for(API.format(MOD_ONLY_SOURCE))
    assert (state["status"], state["attempts"], state["last_error"]) == (
        "failed",
        1,
        f"{url}: timed out",
    )  # one slow article is that article's trouble (tests/following/test_follow_faults.py)


def test_portal_down_backs_off_quietly(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    down = follower(app, govkz_base_url=f"http://127.0.0.1:{free_port()}")
    report = down.run()
    assert report.attempted == 1 and report.failed == 0
    assert report.host_paused_until is not None
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "cannot connect: connection refused" in warnings[0]
    assert down.run().attempted == 0
    store: Store = app.extensions["feeds"].store
    assert store.get_state(HOST_PAUSE) == report.host_paused_until.isoformat()


def test_rate_limit_spaces_requests(app: Flask, httpserver: HTTPServer) -> None:
    times: list[float] = []

    def record(request: Request) -> Response:
        times.append(time.monotonic())
        item_id = request.path.rsplit("/", 1)[1]
        return Response(json.dumps(news(item_id)), mimetype="application/json")

    httpserver.expect_request(AnyNews()).respond_with_handler(record)
    report = follower(app, follow_rate=4.0).run(limit=6)
    assert report.attempted == 6 and report.changed == 6
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 5 and min(gaps) >= 0.24
    assert {r.host for r, _ in httpserver.log} == {
        f"localhost:{httpserver.port}"
    }  # GOVKZ_BASE_URL only


def test_only_news_links_are_followed(app: Flask) -> None:
    store: Store = app.extensions["feeds"].store
    due = store.due_follows(datetime.now(UTC), 1000)
    assert len(due) == 33  # the 37 sample items less the 4 without a link
    assert {d.lang for d in due} == {"en", "ru"}  # the texts' languages; every link says kk
