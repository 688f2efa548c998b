"""The polling fast path answers exactly as Flask would, without Flask."""

import pytest
from flask import Flask

from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.web.app import create_app

COMPARED = (
    "Content-Type",
    "Content-Length",
    "Content-Encoding",
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Vary",
    "Link",
)


@pytest.fixture
def app(settings: Settings) -> Flask:
    app = create_app(settings)
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    app.flask_requests = 0  # type: ignore[attr-defined]

    @app.before_request
    def seen() -> None:
        app.flask_requests += 1  # type: ignore[attr-defined]

    return app


def headers(response) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in COMPARED}


@pytest.mark.parametrize("path", ["/all.atom", "/agencies/mfa.rss", "/topics/news.json"])
@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_same_answer_as_flask(app: Flask, path: str, encoding: str) -> None:
    client = app.test_client()
    asked = {"Accept-Encoding": encoding} if encoding else {}
    fast = client.get(path, headers=asked)
    assert app.flask_requests == 0  # type: ignore[attr-defined]
    slow = client.get(path + "?limit=50", headers=asked)  # a query string goes through Flask
    assert app.flask_requests == 1  # type: ignore[attr-defined]
    assert (fast.status_code, fast.data, headers(fast)) == (
        slow.status_code,
        slow.data,
        headers(slow),
    )
    head = client.head(path, headers=asked)
    assert (head.status_code, head.data, headers(head)) == (200, b"", headers(fast))
    conditional = {"If-None-Match": fast.headers["ETag"], **asked}
    fast_304 = client.get(path, headers=conditional)
    slow_304 = client.get(path + "?limit=50", headers=conditional)
    assert (fast_304.status_code, fast_304.data, headers(fast_304)) == (
        304,
        b"",
        headers(slow_304),
    )


def test_conditional_requests_on_the_fast_path(app: Flask) -> None:
    client = app.test_client()
    first = client.get("/all.atom")
    for validator in (
        {"If-None-Match": first.headers["ETag"]},
        {"If-None-Match": f'"other", {first.headers["ETag"]}'},
        {"If-Modified-Since": first.headers["Last-Modified"]},
        {"If-Modified-Since": "Sun, 01 Feb 2026 00:00:00 GMT"},
    ):
        answer = client.get("/all.atom", headers=validator)
        assert answer.status_code == 304, validator
        assert answer.data == b""
        assert answer.headers["ETag"] == first.headers["ETag"]
    assert client.get("/all.atom", headers={"If-None-Match": '"other"'}).status_code == 200
    assert (
        client.get(
            "/all.atom", headers={"If-Modified-Since": "Thu, 01 Jan 2026 00:00:00 GMT"}
        ).status_code
        == 200
    )
    assert app.flask_requests == 0  # type: ignore[attr-defined]


def test_everything_else_goes_to_flask(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/agencies/nope.atom").text == "unknown agency 'nope'\n"
    # A browser tab gets the feed's page, which only Flask makes.
    assert client.get("/all.atom", headers={"Sec-Fetch-Dest": "document"}).mimetype == "text/html"
    assert client.post("/all.atom").status_code == 405
    assert app.flask_requests == 3  # type: ignore[attr-defined]
