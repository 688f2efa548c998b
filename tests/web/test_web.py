"""The served feeds, read back as feed readers read them (feedparser), with exact values."""

import gzip
import json
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feeds.ingest import Ingester
from feeds.settings import Settings
from tests.conftest import SAMPLE_DUMPS
from tests.expected_items import ITEMS, feed_link

ALL_AGENCIES = sorted({item.agency for item in ITEMS if item.agency})


def get_feed(client: FlaskClient, path: str) -> feedparser.FeedParserDict:
    response = client.get(path)
    assert response.status_code == 200, (path, response.text)
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    return parsed


def feed_paths(client: FlaskClient) -> list[str]:
    """Every feed the OPML lists, as site-relative paths."""
    opml = ElementTree.fromstring(client.get("/feeds.opml").data)
    return [
        o.get("xmlUrl").removeprefix("http://localhost")
        for o in opml.iter("outline")
        if o.get("xmlUrl")
    ]


def test_opml_lists_all_agencies_and_topics(client: FlaskClient) -> None:
    paths = feed_paths(client)
    assert paths[0] == "/all.atom"
    agencies = [p for p in paths if p.startswith("/agencies/")]
    for slug in ALL_AGENCIES:
        assert f"/agencies/{slug}.atom" in agencies
    assert {"/topics/news.atom", "/topics/world.atom"} <= set(paths)
    assert len(paths) == len(set(paths))


def test_all_feed_has_every_item_with_exact_values(client: FlaskClient) -> None:
    feed = get_feed(client, "/all.atom?limit=500")
    assert feed.version == "atom10"
    assert feed.feed.title == "gov.kz news"
    assert len(feed.entries) == 37
    by_title = {entry.title: entry for entry in feed.entries}
    for item in ITEMS:
        entry = by_title[item.title]
        if item.link:
            assert entry.link == feed_link(item)
        else:
            assert entry.link.startswith("http://localhost/items/")
        assert entry.published == f"{item.date}T00:00:00+05:00"
    ids = [entry.id for entry in feed.entries]
    assert len(set(ids)) == 37
    # newest first, and within a day in dump order
    assert [entry.title for entry in feed.entries[:3]] == [
        ITEMS[0].title,
        ITEMS[1].title,
        ITEMS[2].title,
    ]


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_every_feed_parses_and_ids_agree_across_feeds(client: FlaskClient, fmt: str) -> None:
    ids_by_title: dict[str, str] = {}
    for path in feed_paths(client):
        path = path.replace(".atom", f".{fmt}")
        if fmt == "json":
            response = client.get(path)
            assert response.status_code == 200
            assert response.mimetype == "application/feed+json"
            document = json.loads(response.data)
            pairs = [(item["title"], item["id"]) for item in document["items"]]
        else:
            feed = get_feed(client, path)
            pairs = [(entry.title, entry.id) for entry in feed.entries]
        assert len({i for _, i in pairs}) == len(pairs), path
        for title, item_id in pairs:
            assert ids_by_title.setdefault(title, item_id) == item_id, (path, title)
    assert len(ids_by_title) == 37


def test_agency_feed_entries(client: FlaskClient) -> None:
    feed = get_feed(client, "/agencies/mfa-washington.atom")
    expected = [feed_link(i) for i in ITEMS if i.agency == "mfa-washington"]
    assert [e.link for e in feed.entries] == expected
    entry = feed.entries[0]
    assert entry.published == "2026-01-10T00:00:00+05:00"
    assert entry.updated == "2026-01-10T00:00:00+05:00"
    assert entry.content[0].type == "text/html"
    assert entry.content[0].value.startswith(
        "<p>Akorda hosted the ceremony to present the credentials"
    )
    assert entry.summary.startswith("Akorda hosted the ceremony")
    assert "news" in [t.term for t in entry.tags]


def test_feed_level_links(client: FlaskClient) -> None:
    feed = get_feed(client, "/topics/world.atom?limit=5")
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["self"] == "http://localhost/topics/world.atom?limit=5"
    assert links["alternate"] == "http://localhost/topics/world"
    assert links["first"] == "http://localhost/topics/world.atom?limit=5"
    assert links["next"].startswith("http://localhost/topics/world.atom?limit=5&after=")
    assert "previous" not in links
    assert feed.feed.icon == "http://localhost/static/icon.png"


def walk(client: FlaskClient, path: str, rel: str) -> list[str]:
    seen: list[str] = []
    while path:
        feed = get_feed(client, path)
        seen.extend(entry.id for entry in feed.entries)
        links = {link.rel: link.href for link in feed.feed.links}
        path = links.get(rel, "").removeprefix("http://localhost")
    return seen


def test_paging_reaches_every_item_exactly_once(client: FlaskClient) -> None:
    forward = walk(client, "/all.atom?limit=5", "next")
    assert len(forward) == 37 == len(set(forward))
    assert forward == [e.id for e in get_feed(client, "/all.atom?limit=500").entries]
    last_page = get_feed(client, "/all.atom?limit=5")
    path = "/all.atom?limit=5"
    while True:  # go to the last page, then walk back with "previous"
        links = {link.rel: link.href for link in get_feed(client, path).feed.links}
        if "next" not in links:
            break
        path = links["next"].removeprefix("http://localhost")
    backward = walk(client, path, "previous")
    assert len(backward) == 37 == len(set(backward))
    assert last_page.entries[0].id in backward


def conditional(client: FlaskClient, path: str, **headers: str):
    return client.get(path, headers=headers)


def test_conditional_get_with_each_validator(client: FlaskClient) -> None:
    first = client.get("/all.atom")
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    modified = first.headers["Last-Modified"]
    assert modified == "Fri, 09 Jan 2026 19:00:00 GMT"
    assert client.get("/all.atom", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/all.atom", headers={"If-Modified-Since": modified}).status_code == 304
    later = format_datetime(datetime(2026, 2, 1, tzinfo=UTC), usegmt=True)
    assert client.get("/all.atom", headers={"If-Modified-Since": later}).status_code == 304
    earlier = format_datetime(datetime(2026, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get("/all.atom", headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get("/all.atom", headers={"If-None-Match": '"other"'}).status_code == 200
    assert first.headers["Cache-Control"] in ("public, max-age=900", "max-age=900, public")
    assert "Accept-Encoding" in first.headers["Vary"]


def test_validators_move_only_with_content(
    app: Flask, client: FlaskClient, settings: Settings, tmp_path: Path
) -> None:
    store = app.extensions["feeds"].store
    before = client.get("/agencies/almaty-almaly.atom")
    other_before = client.get("/agencies/mfa.atom")
    Ingester(store, settings).run(settings.dumps)
    same = client.get("/agencies/almaty-almaly.atom")
    assert (same.headers["ETag"], same.headers["Last-Modified"]) == (
        before.headers["ETag"],
        before.headers["Last-Modified"],
    )
    edited = tmp_path / "edited.txt"
    edited.write_text(
        SAMPLE_DUMPS[0]
        .read_text(encoding="utf-8")
        .replace("Almaty Zoo has launched", "The Almaty Zoo has launched"),
        encoding="utf-8",
    )
    Ingester(store, settings).run([str(edited)])
    after = client.get("/agencies/almaty-almaly.atom")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.headers["Last-Modified"] != before.headers["Last-Modified"]
    assert (
        client.get(
            "/agencies/almaty-almaly.atom", headers={"If-None-Match": before.headers["ETag"]}
        ).status_code
        == 200
    )
    other_after = client.get("/agencies/mfa.atom")
    assert other_after.headers["ETag"] == other_before.headers["ETag"]


def test_gzip_and_head(client: FlaskClient) -> None:
    plain = client.get("/all.rss")
    zipped = client.get("/all.rss", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    head = client.head("/all.rss")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == plain.headers["ETag"]
    assert plain.mimetype == "application/rss+xml"
    assert client.get("/all.atom").mimetype == "application/atom+xml"


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/agencies/nope.atom", 404, "unknown agency 'nope'"),
        ("/topics/nope.rss", 404, "unknown topic 'nope'"),
        ("/agencies/nope", 404, "unknown agency 'nope'"),
        ("/all.atom?limit=0", 400, "bad limit: '0' is not a whole number from 1 (capped at 500)"),
        (
            "/all.atom?limit=ten",
            400,
            "bad limit: 'ten' is not a whole number from 1 (capped at 500)",
        ),
        ("/all.atom?lang=de", 400, "bad lang: 'de' is not one of kk, ru, en"),
        ("/all.atom?after=!!", 400, "bad after: not a cursor given by this feed's links"),
        ("/all.json?before=abc", 400, "bad before: not a cursor given by this feed's links"),
        ("/all.xml", 404, "404 Not Found"),
        ("/agencies/../etc/passwd.atom", 404, "404 Not Found"),
    ],
)
def test_bad_requests_get_one_line(
    client: FlaskClient, path: str, status: int, message: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.text == message + "\n"


def test_limit_is_capped_and_lang_filters(client: FlaskClient) -> None:
    assert len(get_feed(client, "/all.atom?limit=100000").entries) == 37
    russian = get_feed(client, "/all.atom?lang=ru")
    assert sorted(e.title for e in russian.entries) == [
        "The Navy has begun to complete the K-1 course task",
        "Вопросы развития села и малых городов рассмотрены в общественной приёмной Центрального аппарата партии «Amanat»",
    ]


def test_html_pages_have_autodiscovery(client: FlaskClient) -> None:
    for path in ("/", "/agencies/mfa", "/topics/news"):
        page = client.get(path)
        assert page.status_code == 200
        assert b'rel="alternate" type="application/atom+xml"' in page.data
    assert (
        b"Ambassador of Kazakhstan Presents Credentials"
        in client.get("/agencies/mfa-washington").data
    )


def test_item_without_link_has_a_permalink_page(client: FlaskClient) -> None:
    feed = get_feed(client, "/all.atom?limit=500")
    (entry,) = [
        e for e in feed.entries if e.title == "The Mayor of Shymkent met with entrepreneurs"
    ]
    page = client.get(entry.link.removeprefix("http://localhost"))
    assert page.status_code == 200
    assert "Shymkent Mayor Gabit Syzdykbekov held his traditional annual meeting" in page.text


def test_healthz(client: FlaskClient) -> None:
    answer = client.get("/healthz").get_json()
    assert answer["status"] == "ok"
    assert answer["items"] == 37
    assert answer["content_version"] == 2
    assert answer["last_ingest"] is not None
    assert 0 <= answer["follow"].pop("oldest_pending_seconds") < 60
    assert answer["follow"] == {"pending": 33, "ok": 0, "failing": 0, "gone": 0, "paused": None}
    assert answer["last_follow"] is None


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_w3c_validator_finds_no_error_in_any_feed(client: FlaskClient, w3c, fmt: str) -> None:
    checked = 0
    for path in feed_paths(client):
        path = path.replace(".atom", f".{fmt}")
        response = client.get(path)
        messages = w3c.validate(
            response.data, f"http://localhost{path}", content_type=response.content_type
        )
        errors = [str(m) for m in messages if m.level == "error"]
        assert errors == [], path
        checked += 1
    assert checked == len(feed_paths(client))


HOSTILE_TITLE = "<script>alert('t')</script> & ]]> Tom & \"Jerry\""
HOSTILE_BODY = (
    'Look <img src=x onerror=alert(1)> ]]> &amp; <a href="javascript:alert(2)">x</a>\x01 end.'
)


def test_hostile_text_is_escaped_everywhere(
    app: Flask, client: FlaskClient, settings: Settings, tmp_path: Path
) -> None:
    dump = tmp_path / "hostile.txt"
    dump.write_text(
        f"News\n{HOSTILE_TITLE} 11.01.2026\n{HOSTILE_BODY}Source : "
        "https://www.gov.kz/memleket/entities/mfa/press/news/details/999?lang=en",
        encoding="utf-8",
    )
    Ingester(app.extensions["feeds"].store, settings).run([str(dump)])
    atom = client.get("/agencies/mfa.atom").data
    entry = ElementTree.fromstring(atom).find("{http://www.w3.org/2005/Atom}entry")
    assert entry.findtext("{http://www.w3.org/2005/Atom}title") == HOSTILE_TITLE
    content = entry.findtext("{http://www.w3.org/2005/Atom}content")
    # The dump's "&amp;" is a character reference, decoded once (SPEC section 9): an "&".
    assert content == (
        "<p>Look &lt;img src=x onerror=alert(1)&gt; ]]&gt; &amp; "
        '&lt;a href="javascript:alert(2)"&gt;x&lt;/a&gt; end.</p>'
    )
    assert not feedparser.parse(atom).bozo
    rss = ElementTree.fromstring(client.get("/agencies/mfa.rss").data)
    assert rss.find("channel/item/title").text == HOSTILE_TITLE
    assert (
        rss.find("channel/item/{http://purl.org/rss/1.0/modules/content/}encoded").text == content
    )
    item = json.loads(client.get("/agencies/mfa.json").data)["items"][0]
    assert (item["title"], item["content_html"]) == (HOSTILE_TITLE, content)
    for page in (client.get("/agencies/mfa").text, client.get("/").text):
        assert "<script>alert" not in page
    assert (
        "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; &amp; ]]&gt; Tom &amp; &#34;Jerry&#34;"
        in client.get("/agencies/mfa").text
    )


def test_parent_feed_includes_children_but_not_siblings(
    client: FlaskClient, app: Flask, settings: Settings, tmp_path: Path
) -> None:
    dump = tmp_path / "paris.txt"
    dump.write_text(
        "World\nKazakh culture days in Paris 11.01.2026\nText.Source : "
        "https://www.gov.kz/memleket/entities/mfa-paris/press/news/details/42?lang=en",
        encoding="utf-8",
    )
    Ingester(app.extensions["feeds"].store, settings).run([str(dump)])
    parent = {e.title for e in get_feed(client, "/agencies/mfa.atom?limit=500").entries}
    expected = {i.title for i in ITEMS if i.agency and i.agency.startswith("mfa")} | {
        "Kazakh culture days in Paris"
    }
    assert parent == expected
    child = {e.title for e in get_feed(client, "/agencies/mfa-washington.atom").entries}
    assert child == {i.title for i in ITEMS if i.agency == "mfa-washington"}
    feed = get_feed(client, "/agencies/mfa.atom")
    assert feed.feed.subtitle == (
        "Ministry of Foreign Affairs of the Republic of Kazakhstan: press releases on gov.kz. Includes its 5 "
        "subordinate bodies: mfa-brussels, mfa-geneva, mfa-ljubljana, mfa-paris, mfa-washington."
    )
    assert (
        get_feed(client, "/agencies/mfa-paris.atom").feed.title
        == "Diplomatic mission: Paris – gov.kz news"
    )
