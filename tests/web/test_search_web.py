"""Search over HTTP (issue 17): `?q=` on every feed, `/search.*` feeds and the `/search`
page; search feeds are feeds (validators, 304, gzip, paging, the W3C validator) and bad
queries are harmless."""

import gzip
import json
import re
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from flask.testing import FlaskClient

ATOM = "{http://www.w3.org/2005/Atom}"
DECLARATION_TITLES = [
    "Reasons for refusals to transfer to the simplified declaration-based tax regime in connection with changes to the OKEDs",
    "Liability for false declaration of goods",
]


def titles(body: bytes) -> list[str]:
    root = ElementTree.fromstring(body)
    return [entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")]


def link(body: bytes, rel: str) -> str | None:
    for element in ElementTree.fromstring(body).findall(f"{ATOM}link"):
        if element.get("rel") == rel:
            return element.get("href")
    return None


@pytest.mark.parametrize(
    "path",
    [
        "/all.atom?q=declarations",
        "/topics/news.atom?q=declarations",
        "/agencies/kgd-zhetysu.atom?q=declaration&lang=en",
        "/search.atom?q=declarations",
        "/search.atom?q=declarations&topic=news&lang=en",
    ],
)
def test_q_narrows_every_feed(client: FlaskClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    expected = DECLARATION_TITLES[:1] if "kgd-zhetysu" in path else DECLARATION_TITLES
    assert titles(answer.data) == expected


def test_search_feeds_in_every_format(client: FlaskClient) -> None:
    rss = client.get("/search.rss?q=declarations&agency=kgd-kostanay")
    assert rss.status_code == 200 and rss.mimetype == "application/rss+xml"
    assert re.findall(rb"<item><title>([^<]*)</title>", rss.data) == [
        DECLARATION_TITLES[1].encode()
    ]
    feed = json.loads(client.get("/search.json?q=%22false+declaration%22").data)
    assert [item["title"] for item in feed["items"]] == [DECLARATION_TITLES[1]]
    assert feed["feed_url"] == "http://localhost/search.json?q=%22false+declaration%22"
    assert feed["home_page_url"] == "http://localhost/search?q=%22false+declaration%22"


def test_a_search_feed_pages_with_rel_next(client: FlaskClient) -> None:
    path, seen = "/all.atom?q=kazakhstan&limit=5", []
    while path:
        body = client.get(path).data
        seen += titles(body)
        nxt = link(body, "next")
        path = nxt.removeprefix("http://localhost") if nxt else None
        if nxt:
            assert parse_qs(urlsplit(nxt).query)["q"] == ["kazakhstan"]
    whole = titles(client.get("/all.atom?q=kazakhstan&limit=500").data)
    assert seen == whole and len(whole) == 17 == len(set(whole))


@pytest.mark.parametrize(
    ("q", "title"),
    [
        ('"false declaration"', "“false declaration” – gov.kz news"),
        ('"false declaration', "“false declaration” – gov.kz news"),
        ('"false declaration" goods', "“‘false declaration’ goods” – gov.kz news"),
        ('goods -"tax regime"', "“goods -‘tax regime’” – gov.kz news"),
        ("declarations", "“declarations” – gov.kz news"),
    ],
)
def test_a_search_feeds_title_quotes_the_query_once(
    client: FlaskClient, q: str, title: str
) -> None:
    answer = client.get("/search.atom", query_string={"q": q})
    assert ElementTree.fromstring(answer.data).findtext(f"{ATOM}title") == title
    feed = json.loads(client.get("/search.json", query_string={"q": q}).data)
    assert feed["title"] == title


def test_search_feeds_have_validators_304_gzip_and_cache_control(client: FlaskClient) -> None:
    path = "/search.atom?q=tax&agency=kgd"
    first = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip"
    assert titles(gzip.decompress(first.data))[0].startswith("“People’s Accountant”")
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    since = client.get(path, headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    assert client.head(path).status_code == 200


def test_search_feeds_are_rendered_once_per_version(client: FlaskClient) -> None:
    service = client.application.extensions["feeds"]
    client.get("/all.atom?q=tax")
    renders = service.renders
    for _ in range(3):
        assert client.get("/all.atom?q=tax").status_code == 200
    assert service.renders == renders


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/search.atom?q=" + "tax+" * 60, 400, b"bad q: over 200 characters\n"),
        ("/all.atom?q=*+:+-", 400, b"bad q: no word to search for\n"),
        ("/all.rss?q=%22%22", 400, b"bad q: no word to search for\n"),
        ("/search.atom?agency=nobody", 404, b"unknown agency or topic\n"),
        ("/search.atom?q=tax&topic=nothing-here", 404, b"unknown agency or topic\n"),
        ("/search.atom?agency=%3Cb%3E", 400, b"bad agency: not the slug of an agency\n"),
        ("/agencies/nobody.atom?q=tax", 404, b"unknown agency 'nobody'\n"),
    ],
)
def test_bad_queries_are_told_briefly(
    client: FlaskClient, path: str, status: int, message: bytes
) -> None:
    answer = client.get(path)
    assert (answer.status_code, answer.data) == (status, message)


@pytest.mark.parametrize(
    "q",
    ["NEAR(tax", "tax*", "title:tax", '"tax', "tax AND OR NOT", "\x00\x07tax\x1b", "<b>tax</b>"],
)
def test_hostile_queries_give_valid_feeds(client: FlaskClient, q: str) -> None:
    answer = client.get("/all.atom", query_string={"q": q})
    assert answer.status_code == 200
    assert "<b>" not in answer.get_data(as_text=True).replace("&lt;b&gt;", "")
    assert set(titles(answer.data)) <= set(titles(client.get("/all.atom?q=tax&limit=500").data))


def test_the_search_page(client: FlaskClient) -> None:
    answer = client.get("/search?q=declarations&lang=en")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert re.findall(r"<h3><a [^>]*>([^<]*)</a></h3>", page) == DECLARATION_TITLES
    assert page.count("<mark>declaration</mark>") == 4
    assert "Department of State Revenue for Zhetysu Region" in page
    assert (
        '<link rel="alternate" type="application/atom+xml" title="“declarations” – gov.kz news (Atom)" '
        'href="http://localhost/search.atom?q=declarations&amp;lang=en">' in page
    )
    assert "Subscribe to this search" in page
    assert 'data-copy="http://localhost/search.atom?q=declarations&amp;lang=en"' in page
    assert '<option value="en" lang="en" selected>English</option>' in page
    assert '<option value="kgd-zhetysu">' in page


def test_every_page_has_a_search_box(client: FlaskClient) -> None:
    for path in ["/", "/agencies/mfa", "/topics/news", "/search"]:
        assert 'action="/search"' in client.get(path).get_data(as_text=True), path


def test_the_search_page_escapes_the_query(client: FlaskClient) -> None:
    answer = client.get("/search", query_string={"q": '<script>alert(1)</script> "x'})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<script>alert" not in page
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt; &#34;x"' in page
    bad = client.get("/search", query_string={"q": "<i>" * 80})
    assert bad.status_code == 400 and "<i>" not in bad.get_data(as_text=True)
    assert "bad q: over 200 characters" in bad.get_data(as_text=True)


def test_the_opml_lists_searches_only_when_asked(client: FlaskClient) -> None:
    assert b"search" not in client.get("/feeds.opml").data
    body = client.get("/feeds.opml?q=tax&agency=kgd").data
    urls = [
        o.get("xmlUrl") for o in ElementTree.fromstring(body).iter("outline") if o.get("xmlUrl")
    ]
    assert urls == ["http://localhost/search.atom?q=tax&agency=kgd"]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_w3c_validator_finds_no_error_in_search_feeds(client: FlaskClient, w3c, fmt: str) -> None:
    for path in [f"/search.{fmt}?q=tax&agency=kgd&lang=en&limit=3", f"/all.{fmt}?q=nothing+at+all"]:
        answer = client.get(path)
        messages = w3c.validate(
            answer.data, "http://localhost" + path, content_type=answer.content_type
        )
        assert [m for m in messages if m.level == "error"] == [], path


def test_a_search_feed_opened_in_a_browser_tab_is_the_search_page(client: FlaskClient) -> None:
    answer = client.get("/search.atom?q=declarations", headers={"Sec-Fetch-Dest": "document"})
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    assert "Subscribe to this search" in answer.get_data(as_text=True)
    assert "Sec-Fetch-Dest" in answer.headers["Vary"]
    feed = client.get("/search.atom?q=declarations")
    assert feed.mimetype == "application/atom+xml"
    assert answer.headers["ETag"] != feed.headers["ETag"]  # the page's own (feeds.web.stale)
