"""Hosts (issue 20): with SITE_URL set, every link uses it and the Host header plays no part
in a page or its cache keys; with it empty, only ALLOWED_HOSTS are served, others get 400."""

from dataclasses import replace
from pathlib import Path

import feedparser
import pytest
from flask import Flask

from feeds.errors import SettingsError
from feeds.ingest import Ingester
from feeds.settings import Settings, load_settings
from feeds.web.app import create_app

SITE = "https://feeds.example.kz"
FOREIGN = ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.2", "EVIL"]
PATHS = [
    "/all.atom",
    "/agencies/mfa.rss",
    "/topics/news.json",
    "/all.atom?limit=5",
    "/agencies/mfa-washington",
    "/",
    "/feeds.opml",
    "/healthz",
]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Hosts do not depend on the kind of store: SQLite only."""
    return f"sqlite:///{tmp_path / 'feeds.sqlite3'}"


def app_with(settings: Settings, **changes: object) -> Flask:
    app = create_app(replace(settings, **changes))
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    return app


def cache_keys(app: Flask) -> str:
    service = app.extensions["feeds"]
    fast = app.wsgi_app.app  # AllowedHosts -> FeedFastPath
    return repr([*service.pages.keys(), *service.variants.keys(), *fast.prepared.keys()])


def self_link(body: bytes) -> str:
    return {link.rel: link.href for link in feedparser.parse(body).feed.links}["self"]


@pytest.mark.parametrize("host", FOREIGN)
def test_without_site_url_a_foreign_host_gets_400(settings: Settings, host: str) -> None:
    app = app_with(settings)
    client = app.test_client()
    for path in PATHS:
        answer = client.get(path, headers={"Host": host})
        assert (answer.status_code, answer.text) == (
            400,
            f"400 Bad Request: host {host!r} is not in ALLOWED_HOSTS "
            "(or set SITE_URL, the public base URL)\n",
        ), path
    assert app.extensions["feeds"].store.rendered_keys() == []
    assert "evil" not in cache_keys(app).lower()


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("localhost", "http://localhost"),
        ("localhost:8000", "http://localhost:8000"),
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("LOCALHOST:80", "http://localhost"),
        ("[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_without_site_url_allowed_hosts_get_their_own_links(
    settings: Settings, host: str, base: str
) -> None:
    client = app_with(settings).test_client()
    for path in ("/all.atom", "/all.atom?limit=5"):
        answer = client.get(path, headers={"Host": host})
        assert answer.status_code == 200
        assert self_link(answer.data) == f"{base}{path}"
    opml = client.get("/feeds.opml", headers={"Host": host}).text
    assert f'xmlUrl="{base}/all.atom"' in opml


def test_allowed_hosts_is_a_setting(settings: Settings) -> None:
    client = app_with(settings, allowed_hosts=("feeds.internal",)).test_client()
    assert client.get("/all.atom", headers={"Host": "feeds.internal:81"}).status_code == 200
    assert client.get("/all.atom", headers={"Host": "localhost"}).status_code == 400
    env = {"FEEDS_ALLOWED_HOSTS": "localhost, feeds.internal"}
    assert load_settings(env=env).allowed_hosts == ("localhost", "feeds.internal")
    with pytest.raises(SettingsError) as error:
        load_settings(env={"FEEDS_ALLOWED_HOSTS": '["http://feeds.internal/"]'})
    assert str(error.value) == (
        "environment variable FEEDS_ALLOWED_HOSTS: setting ALLOWED_HOSTS: expected host names "
        "such as localhost or feeds.example.kz (no scheme, port or path), "
        "got 'http://feeds.internal/'"
    )


def test_with_site_url_the_host_header_plays_no_part(settings: Settings) -> None:
    app = app_with(settings, site_url=SITE)
    client = app.test_client()
    answers: dict[str, set[bytes]] = {}
    for host in [*FOREIGN, "localhost", "127.0.0.1:8000"]:
        for path in PATHS:
            answer = client.get(path, headers={"Host": host})
            assert answer.status_code == 200, (host, path)
            assert b"evil" not in answer.data.lower() and b"localhost" not in answer.data
            if path != "/healthz":  # its content version and times are the same too, but
                answers.setdefault(path, set()).add(answer.data)  # the index shows "now"
    assert self_link(client.get("/all.atom?limit=5").data) == f"{SITE}/all.atom?limit=5"
    assert f'xmlUrl="{SITE}/agencies/mfa.atom"' in client.get("/feeds.opml").text
    page = client.get("/agencies/mfa-washington", headers={"Host": "evil.example"}).text
    assert f'href="{SITE}/agencies/mfa-washington.atom"' in page
    assert {path: len(bodies) for path, bodies in answers.items() if path != "/"} == {
        path: 1 for path in PATHS if path not in ("/", "/healthz")
    }
    keys = cache_keys(app)
    assert "evil" not in keys.lower() and "localhost" not in keys and SITE in keys
    # One shared page per canonical feed requested (and the Summary), however many hosts.
    assert len(app.extensions["feeds"].store.rendered_keys()) == 3 + 1
