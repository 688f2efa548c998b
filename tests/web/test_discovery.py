"""What a reader learns from a feed's HTTP answer without parsing it: WebSub discovery in the
`Link` header (WebSub section 4: rel=hub when a hub is set, exactly one rel=self, the feed's
own URL as its body says it) on every format, on the fast path and Flask's, on 304s and on the
HTML feed page; and the cadence, the RSS `<ttl>` = INGEST_INTERVAL in minutes."""

import json
from dataclasses import replace
from xml.etree import ElementTree

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feeds.errors import StoreUnavailable
from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.web.app import create_app

HUB = "https://hub.example/websub"
BASE = "http://localhost"


def app_with(settings: Settings, **changes: object) -> Flask:
    app = create_app(replace(settings, **changes))
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    return app


@pytest.fixture
def hub_client(settings: Settings) -> FlaskClient:
    return app_with(settings, websub_hub=HUB).test_client()


def body_self(data: bytes, fmt: str) -> str:
    """The rel="self" the feed's body gives."""
    if fmt == "json":
        return json.loads(data)["feed_url"]
    parsed = feedparser.parse(data)
    return next(link.href for link in parsed.feed.links if link.rel == "self")


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
@pytest.mark.parametrize(
    "path",
    [
        "/all",  # the fast path
        "/agencies/mfa",  # the fast path, a parent agency
        "/topics/news",
    ],
)
def test_link_header_names_hub_and_self_on_200_and_304(
    hub_client: FlaskClient, path: str, fmt: str
) -> None:
    url = f"{path}.{fmt}"
    first = hub_client.get(url)
    assert first.status_code == 200, first.text
    expected = f'<{HUB}>; rel="hub", <{BASE}{url}>; rel="self"'
    assert first.headers.getlist("Link") == [expected]
    assert body_self(first.data, fmt) == f"{BASE}{url}"
    again = hub_client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers.getlist("Link") == [expected]


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_link_header_of_a_query_variant_is_its_own_url(hub_client: FlaskClient, fmt: str) -> None:
    """Rendered on demand by Flask, not the fast path: the self is the variant's URL, as in
    its body, in a 304 too."""
    url = f"/search.{fmt}?q=declaration&lang=en&limit=3"
    first = hub_client.get(url)
    assert first.status_code == 200, first.text
    self_url = body_self(first.data, fmt)
    assert self_url == f"{BASE}/search.{fmt}?q=declaration&limit=3&lang=en"
    expected = [f'<{HUB}>; rel="hub", <{self_url}>; rel="self"']
    assert first.headers.getlist("Link") == expected
    again = hub_client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers.getlist("Link") == expected


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_without_a_hub_the_link_header_is_self_alone(client: FlaskClient, fmt: str) -> None:
    for url in (f"/all.{fmt}", f"/agencies/mfa.{fmt}?lang=ru"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        assert response.headers.getlist("Link") == [
            f'<{body_self(response.data, fmt)}>; rel="self"'
        ]
        assert body_self(response.data, fmt) == f"{BASE}{url}"


def test_html_feed_page_links_the_hub_and_its_atom_feed(hub_client: FlaskClient) -> None:
    """A page's self is the feed a subscriber gets there, the topic the hub is pinged for."""
    page = hub_client.get("/agencies/mfa")
    assert page.status_code == 200
    assert page.headers.getlist("Link") == [
        f'<{HUB}>; rel="hub", <{BASE}/agencies/mfa.atom>; rel="self"'
    ]
    page = hub_client.get("/topics/news?lang=ru")
    assert page.headers.getlist("Link") == [
        f'<{HUB}>; rel="hub", <{BASE}/topics/news.atom?lang=ru>; rel="self"'
    ]


def test_html_page_at_a_feed_url_links_that_feed(
    hub_client: FlaskClient, client: FlaskClient
) -> None:
    """A browser tab that opened the RSS URL gets the page; its Link is still that RSS."""
    browser = {"Sec-Fetch-Dest": "document", "Accept": "text/html"}
    page = hub_client.get("/all.rss", headers=browser)
    assert page.mimetype == "text/html"
    assert page.headers.getlist("Link") == [f'<{HUB}>; rel="hub", <{BASE}/all.rss>; rel="self"']
    page = client.get("/agencies/mfa", headers=browser)
    assert page.headers.getlist("Link") == [f'<{BASE}/agencies/mfa.atom>; rel="self"']


def test_the_search_page_links_its_feed(hub_client: FlaskClient) -> None:
    page = hub_client.get("/search?q=tax&agency=mfa&agency=kgd-vko")
    assert page.status_code == 200
    assert page.headers.getlist("Link") == [
        f'<{HUB}>; rel="hub", <{BASE}/search.atom?q=tax&agency=kgd-vko&agency=mfa>; rel="self"'
    ]
    browser = {"Sec-Fetch-Dest": "document", "Accept": "text/html"}
    page = hub_client.get("/search.rss?q=tax", headers=browser)
    assert page.mimetype == "text/html"
    assert page.headers["Link"] == f'<{HUB}>; rel="hub", <{BASE}/search.rss?q=tax>; rel="self"'
    assert "Link" not in hub_client.get("/search?since=yesterday").headers  # a 400: no feed


def test_site_url_is_the_self_of_the_link_header(settings: Settings) -> None:
    client = app_with(settings, site_url="https://feeds.example").test_client()
    response = client.get("/all.atom")
    assert response.headers["Link"] == '<https://feeds.example/all.atom>; rel="self"'


def test_feeds_served_while_the_store_is_down_keep_their_link_header(
    hub_client: FlaskClient,
) -> None:
    """Stale-if-error: the fast path's prepared answer and Flask's kept variant, as served."""
    paths = ("/all.atom", "/agencies/mfa.rss?lang=en")
    served = {path: hub_client.get(path).headers["Link"] for path in paths}
    store = hub_client.application.extensions["feeds"].store

    def unreachable() -> int:
        raise StoreUnavailable("OperationalError: connection refused")

    store.content_version = unreachable
    for path in paths:
        response = hub_client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["Link"] == served[path]
        assert response.headers.getlist("Link") == [served[path]]
    assert served["/agencies/mfa.rss?lang=en"] == (
        f'<{HUB}>; rel="hub", <{BASE}/agencies/mfa.rss?lang=en>; rel="self"'
    )


def ttl_of(data: bytes) -> str | None:
    return ElementTree.fromstring(data).findtext("channel/ttl")


def test_rss_ttl_is_the_ingest_interval_in_minutes(settings: Settings, client: FlaskClient) -> None:
    assert ttl_of(client.get("/all.rss").data) == "15"  # the default, 15 minutes
    assert ttl_of(client.get("/agencies/mfa.rss?lang=en").data) == "15"
    assert b"<ttl>" not in client.get("/all.atom").data  # Atom has no such element
    hourly = app_with(settings, ingest_interval=3600.0).test_client()
    assert ttl_of(hourly.get("/all.rss").data) == "60"
    # An interval of less than a minute is still a minute: 0 would not be a cadence.
    quick = app_with(settings, ingest_interval=90.0).test_client()
    assert ttl_of(quick.get("/topics/news.rss").data) == "2"
