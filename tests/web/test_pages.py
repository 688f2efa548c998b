"""The HTML pages, read through the Flask test client: the index lists every feed, `?q=`
narrows it on the server, items carry their language, subscribe links work, a feed URL opened
in a browser tab is the feed's page, and nothing points to another host than this one and
gov.kz item pages."""

import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import feedparser
import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.web import pages
from feeds.web.app import create_app
from tests.expected_items import ITEMS, feed_link

STATIC = Path(__file__).resolve().parents[2] / "feeds" / "web" / "static"
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MFA_FAMILY = ["mfa", "mfa-brussels", "mfa-geneva", "mfa-ljubljana", "mfa-washington"]
BROWSER_TAB = {  # what Chromium sends when a link to a feed is clicked
    "Sec-Fetch-Dest": "document",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
FEED_URL_VARY = "Accept-Encoding, Sec-Fetch-Dest, Accept"


def html(client: FlaskClient, path: str) -> lxml.html.HtmlElement:
    """A page as a browser tab gets it (feed URLs too)."""
    response = client.get(path, headers=BROWSER_TAB)
    assert response.status_code == 200, (path, response.text[:200])
    assert response.mimetype == "text/html"
    return lxml.html.fromstring(response.data)


def opml_feeds(client: FlaskClient) -> list[tuple[str, str, str]]:
    """(title, feed path, page path) of every feed the OPML lists."""
    opml = ElementTree.fromstring(client.get("/feeds.opml").data)
    return [
        (o.get("title"), urlsplit(o.get("xmlUrl")).path, urlsplit(o.get("htmlUrl")).path)
        for o in opml.iter("outline")
        if o.get("xmlUrl")
    ]


def rows(doc: lxml.html.HtmlElement, table: str) -> list[lxml.html.HtmlElement]:
    return doc.xpath(f"//table[@id='{table}']/tbody/tr")


def text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


# -- the index ------------------------------------------------------------------------------


def test_index_lists_every_feed_of_the_opml(client: FlaskClient) -> None:
    doc = html(client, "/")
    listed = opml_feeds(client)
    atom_links = [a.get("href") for a in doc.xpath("//main//a[@type='application/atom+xml']")]
    assert sorted(atom_links) == sorted(path for _, path, _ in listed)
    assert len(atom_links) == len(set(atom_links))
    page_links = {a.get("href") for a in doc.xpath("//table//tbody/tr/th/a")}
    assert page_links == {page for _, feed, page in listed if feed != "/all.atom"}
    names = {text(a) for a in doc.xpath("//table//tbody/tr/th/a")}
    assert names == {title for title, feed, _ in listed if feed != "/all.atom"}
    status = doc.get_element_by_id("search-status")
    assert status.get("data-total") == str(len(listed) - 1) == "43"
    assert text(status) == ""


def test_agencies_are_grouped_by_parent_in_tree_order(client: FlaskClient) -> None:
    doc = html(client, "/")
    groups = [
        [(tr.get("data-slug"), tr.get("data-parent")) for tr in body.xpath("tr")]
        for body in doc.xpath("//table[@id='agency-table']/tbody")
    ]
    heads = [group[0] for group in groups]
    assert all(parent == "" for _, parent in heads)
    assert [slug for slug, _ in heads] == sorted(slug for slug, _ in heads)
    by_head = {group[0][0]: [slug for slug, _ in group] for group in groups}
    assert by_head["mfa"] == MFA_FAMILY
    assert by_head["mvd"] == ["mvd", "kuis", "duisastana", "kvv"]
    assert by_head["minfin"] == [
        "minfin",
        "kgd",
        "kgd-akmola",
        "kgd-kostanay",
        "kgd-vko",
        "kgd-zhetysu",
    ]
    for group in groups:  # every row under a head names a parent listed before it
        seen = {group[0][0]}
        for slug, parent in group[1:]:
            assert parent in seen, (slug, parent)
            seen.add(slug)
    agency_slugs = {slug for group in groups for slug, _ in group}
    assert {item.agency for item in ITEMS if item.agency} <= agency_slugs


def test_index_rows_show_counts_dates_and_language_mix(client: FlaskClient) -> None:
    doc = html(client, "/")
    everything = doc.xpath("//section[@aria-labelledby='everything']//p[@class='meta']")[0]
    # 37 items, 2 of them detected as Russian (see test_web: ?lang=ru), none as Kazakh.
    assert text(everything) == "37 items · last update 10 Jan 2026 · en 35 · ru 2"
    by_slug = {tr.get("data-slug"): tr for tr in rows(doc, "agency-table")}
    cells = [text(td) for td in by_slug["mfa"].xpath("td")[:3]]
    assert cells == ["9", "10 Jan 2026", "en 9"]
    assert [text(td) for td in by_slug["mfa-washington"].xpath("td")[:3]] == [
        "3",
        "10 Jan 2026",
        "en 3",
    ]
    assert by_slug["mfa-washington"].xpath(".//abbr/@title") == ["English"]
    topics = {tr.get("data-slug"): tr for tr in rows(doc, "topic-table")}
    news = [item for item in ITEMS if item.section == "News"]
    assert text(topics["news"].xpath("td")[0]) == str(len(news))
    # Every row's mix adds up to its item count.
    for tr in rows(doc, "agency-table") + rows(doc, "topic-table"):
        count = int(text(tr.xpath("td")[0]))
        mix = [
            int(n) for n in re.findall(r"\b(?:en|ru|kk)\xa0(\d+)", tr.xpath("td")[2].text_content())
        ]
        assert sum(mix) == count, tr.get("data-slug")


def test_language_mix_of_a_russian_topic(client: FlaskClient, app: Flask) -> None:
    with app.test_request_context():
        counts = pages.language_counts(app.extensions["feeds"])
    assert dict(counts.everything) == {"en": 35, "ru": 2}
    assert pages.language_mix([{"ru": 2, "en": 2, "kk": 5}]) == (("kk", 5), ("en", 2), ("ru", 2))
    assert pages.language_mix([]) == ()


def test_search_mfa_narrows_on_the_server(client: FlaskClient) -> None:
    doc = html(client, "/?q=mfa")
    assert [
        (tr.get("data-slug"), "context" in (tr.get("class") or ""))
        for tr in rows(doc, "agency-table")
    ] == [(slug, False) for slug in MFA_FAMILY]
    assert [text(tr.xpath("th/a")[0]) for tr in rows(doc, "agency-table")] == [
        "Ministry of Foreign Affairs of the Republic of Kazakhstan",
        "Embassy of the Republic of Kazakhstan in the Kingdom of Belgium",
        "Permanent Mission of the Republic of Kazakhstan to the United Nations Office and Other International Organizations in Geneva",
        "Embassy of the Republic of Kazakhstan in the Republic of Slovenia",
        "Embassy of the Republic of Kazakhstan in the United States of America",
    ]
    assert rows(doc, "topic-table") == []
    assert doc.get_element_by_id("topic-table").get("hidden") is not None
    assert (
        text(doc.xpath("//section[@aria-labelledby='topics-heading']/p[@class='empty']")[0])
        == "No topic matches “mfa”."
    )
    assert text(doc.get_element_by_id("search-status")) == "5 of 43 feeds match “mfa”."
    assert doc.get_element_by_id("q").get("value") == "mfa"
    assert doc.xpath("//form[@role='search'][@action='/']/@method") == ["get"]


@pytest.mark.parametrize(
    ("query", "agencies", "topics"),
    [
        # A match keeps its listed ancestors, marked as context (*).
        ("washington", ["mfa*", "mfa-washington"], []),
        ("MFA  Washington", ["mfa*", "mfa-washington"], []),
        # Russian names are searched too: "Посольство" is the embassies' (not Geneva's mission).
        ("посольство", ["mfa*", "mfa-brussels", "mfa-ljubljana", "mfa-washington"], []),
        ("diplomacy", [], ["diplomacy"]),
        ("kgd vko", ["minfin*", "kgd*", "kgd-vko"], []),
        ("no such feed", [], []),
    ],
)
def test_search_queries(
    client: FlaskClient, query: str, agencies: list[str], topics: list[str]
) -> None:
    doc = html(client, "/?" + f"q={query}")
    listed = [
        tr.get("data-slug") + ("*" if "context" in (tr.get("class") or "") else "")
        for tr in rows(doc, "agency-table")
    ]
    assert listed == agencies
    assert [tr.get("data-slug") for tr in rows(doc, "topic-table")] == topics


def test_search_text_is_what_the_script_matches(client: FlaskClient) -> None:
    doc = html(client, "/")
    row = doc.xpath("//tr[@data-slug='mfa-washington']")[0]
    search = row.get("data-search")
    assert search == search.lower()
    assert search.startswith(
        "mfa-washington embassy of the republic of kazakhstan in the united states"
    )
    assert "посольство" in search and "елшілігі" in search
    script = (STATIC / "pages.js").read_text(encoding="utf-8")
    assert "toLowerCase().split(/\\s+/)" in script and "dataset.search.includes" in script


def test_hostile_query_is_escaped(client: FlaskClient) -> None:
    response = client.get("/?q=%3Cscript%3Ealert(1)%3C/script%3E%22")
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;&#34;"' in response.text


# -- feed pages -----------------------------------------------------------------------------


def atom_langs(client: FlaskClient, path: str) -> list[tuple[str, str]]:
    feed = ElementTree.fromstring(client.get(path).data)
    return [(e.findtext(f"{ATOM}title"), e.get(XML_LANG)) for e in feed.iter(f"{ATOM}entry")]


def article_langs(doc: lxml.html.HtmlElement) -> list[tuple[str, str]]:
    return [(text(a.xpath(".//h3")[0]), a.get("lang")) for a in doc.xpath("//article")]


def test_every_feed_page_shows_its_items_with_their_language(client: FlaskClient) -> None:
    languages = set()
    for _, feed, page in opml_feeds(client):
        if page == "/":
            continue
        doc = html(client, page)
        expected = atom_langs(client, feed)
        assert article_langs(doc) == expected, page
        languages |= {lang for _, lang in expected}
        assert doc.xpath("/html/@lang") == ["en"]
    assert languages == {"en", "ru"}


def test_russian_items_are_marked_russian(client: FlaskClient) -> None:
    doc = html(client, "/topics/news?lang=ru")
    assert article_langs(doc) == [
        (
            "Вопросы развития села и малых городов рассмотрены в общественной приёмной Центрального аппарата партии «Amanat»",
            "ru",
        ),
    ]
    (article,) = doc.xpath("//article")
    # The page's own words inside an item stay English; the item's words are Russian.
    assert article.xpath("p[@class='meta']/@lang") == ["en"]
    current = doc.xpath("//nav[@aria-label='Language of the items']//a[@aria-current='page']")
    assert [(text(a), a.get("lang")) for a in current] == [("Русский", "ru")]


def test_agency_page_items_and_subscribe(client: FlaskClient) -> None:
    doc = html(client, "/agencies/mfa-washington")
    assert (
        text(doc.xpath("//h1")[0])
        == "Embassy of the Republic of Kazakhstan in the United States of America"
    )
    articles = doc.xpath("//article")
    expected = [item for item in ITEMS if item.agency == "mfa-washington"]
    assert [text(a.xpath(".//h3")[0]) for a in articles] == [item.title for item in expected]
    assert [a.xpath(".//h3/a/@href")[0] for a in articles] == [feed_link(item) for item in expected]
    first = articles[0]
    assert (
        text(first.xpath("p[@class='meta']")[0])
        == "10 Jan 2026 · Topics: Diplomacy and foreign policy, News"
    )
    assert first.xpath("p[@class='meta']/time/@datetime") == ["2026-01-10T00:00:00+05:00"]
    assert first.xpath("p[@class='meta']//a/@href") == ["/topics/diplomacy", "/topics/news"]
    assert text(first.xpath("p")[1]).startswith("Akorda hosted the ceremony")
    assert text(first.xpath("p[@class='read-more']/a")[0]).startswith("Read on gov.kz")
    crumbs = [text(li) for li in doc.xpath("//nav[@aria-label='Breadcrumb']//li")]
    assert crumbs == [
        "All feeds",
        "Ministry of Foreign Affairs of the Republic of Kazakhstan",
        crumbs[-1],
    ]
    subscribe = doc.xpath("//section[@aria-labelledby='subscribe-heading']")[0]
    assert [(text(a), a.get("href")) for a in subscribe.xpath(".//a")] == [
        ("Atom", "/agencies/mfa-washington.atom"),
        ("RSS", "/agencies/mfa-washington.rss"),
        ("JSON", "/agencies/mfa-washington.json"),
    ]
    assert subscribe.xpath(".//button/@data-copy") == [
        "http://localhost/agencies/mfa-washington.atom"
    ]
    assert text(subscribe.xpath(".//code")[0]) == "http://localhost/agencies/mfa-washington.atom"
    alternates = doc.xpath("//head/link[@rel='alternate']/@href")
    assert alternates == [
        f"http://localhost/agencies/mfa-washington.{fmt}" for fmt in ("atom", "rss", "json")
    ]


def test_parent_agency_page_names_children_and_authors(client: FlaskClient) -> None:
    doc = html(client, "/agencies/mfa")
    assert [text(a) for a in doc.xpath("//details//a")][:1] == [
        "Embassy of the Republic of Kazakhstan in the United States of America"
    ]
    meta = text(doc.xpath("//article/p[@class='meta']")[0])
    assert "Embassy of the Republic of Kazakhstan in the United States of America" in meta


def test_paging_links_on_pages(client: FlaskClient) -> None:
    doc = html(client, "/topics/world?limit=5")
    assert doc.xpath("//nav[@aria-label='Pages']//a/@rel") == ["next"]
    older = doc.xpath("//a[@rel='next']/@href")[0]
    assert older.startswith("http://localhost/topics/world?limit=5&after=")
    second = html(client, older.removeprefix("http://localhost"))
    assert second.xpath("//nav[@aria-label='Pages']//a/@rel")[0] == "prev"
    first_titles = {t for t, _ in article_langs(doc)}
    assert first_titles.isdisjoint(t for t, _ in article_langs(second))


def test_subscribe_links_of_every_row_work(client: FlaskClient) -> None:
    doc = html(client, "/")
    media = {
        "atom": "application/atom+xml",
        "rss": "application/rss+xml",
        "json": "application/feed+json",
    }
    subscribes = doc.xpath("//div[contains(@class, 'subscribe')]")
    assert len(subscribes) == 44
    for block in subscribes:
        links = block.xpath("a")
        assert [text(a) for a in links] == ["Atom", "RSS", "JSON"]
        base = links[0].get("href").removesuffix(".atom")
        assert [a.get("href") for a in links] == [f"{base}.{fmt}" for fmt in media]
        for a in links:
            assert a.get("type") == media[a.get("href").rsplit(".", 1)[1]]
            assert a.get("aria-label").startswith(text(a) + " feed: ")
        (button,) = block.xpath("button")
        assert button.get("data-copy") == f"http://localhost{base}.atom"
        assert button.get("hidden") is not None  # shown by the script; the URL is printed
        assert (
            text(block.xpath("span[@class='feed-url']/code")[0]) == f"http://localhost{base}.atom"
        )
    for path in ("/agencies/kgd.rss", "/topics/world.atom"):
        parsed = feedparser.parse(client.get(path).data)
        assert not parsed.bozo and parsed.entries
    opml = doc.xpath("//main//a[@href='/feeds.opml']")
    assert opml and opml[0].get("download") == "gov-kz-feeds.opml"


def test_copy_urls_use_the_site_url(settings: Settings) -> None:
    app = create_app(replace(settings, site_url="https://feeds.example.org"))
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    doc = lxml.html.fromstring(app.test_client().get("/agencies/mfa").data)
    assert doc.xpath("//button/@data-copy") == ["https://feeds.example.org/agencies/mfa.atom"]


def test_item_page(client: FlaskClient) -> None:
    feed = feedparser.parse(client.get("/all.atom?limit=500").data)
    (entry,) = [
        e for e in feed.entries if e.title == "The Mayor of Shymkent met with entrepreneurs"
    ]
    doc = html(client, entry.link.removeprefix("http://localhost"))
    (article,) = doc.xpath("//article")
    assert article.get("lang") == "en"
    assert text(article.xpath("h1")[0]) == "The Mayor of Shymkent met with entrepreneurs"
    cited = [item for item in ITEMS if item.other_source]
    assert cited
    for item in cited:
        (match,) = [e for e in feed.entries if e.title == item.title]
        page = client.get(f"/items/{match.id.removeprefix('urn:uuid:')}")
        doc = lxml.html.fromstring(page.data)
        assert doc.xpath("//article//a[text()='This press release on gov.kz']/@href") == [
            feed_link(item)
        ]
        assert item.other_source in text(doc.xpath("//article")[0])
        assert item.other_source not in doc.xpath("//@href")


def test_bad_page_parameters(client: FlaskClient) -> None:
    assert client.get("/agencies/mfa?lang=de").status_code == 400
    assert client.get("/topics/nope").status_code == 404


# -- what every page holds ------------------------------------------------------------------


def page_paths(client: FlaskClient) -> list[str]:
    feed = feedparser.parse(client.get("/all.atom?limit=3").data)
    items = [e.link for e in feed.entries if e.link.startswith("http://localhost/items/")]
    items += [f"/items/{e.id.removeprefix('urn:uuid:')}" for e in feed.entries]
    paths = ["/", "/?q=mfa", "/?q=nothing-matches", "/topics/news?lang=ru", "/topics/world?limit=5"]
    paths += ["/all.atom", "/agencies/mfa.rss?lang=en", "/topics/world.atom?limit=5"]
    paths += [page for _, _, page in opml_feeds(client) if page != "/"]
    return paths + [urlsplit(link).path for link in items]


def test_no_page_refers_to_another_host(client: FlaskClient) -> None:
    """Assets are this site's; the only links elsewhere are the items' gov.kz pages."""
    for path in page_paths(client):
        doc = html(client, path)
        for element in doc.iter():
            for name in ("src", "href", "action", "data", "poster", "srcset", "formaction"):
                value = element.get(name)
                if value is None:
                    continue
                parts = urlsplit(value)
                if not parts.scheme and not parts.netloc:
                    continue  # this site
                assert parts.scheme in ("http", "https"), (path, value)
                if parts.hostname == "localhost":
                    continue
                assert pages.is_govkz(value), (path, value)
                assert element.tag == "a" and element.xpath("ancestor::article"), (path, value)
        assert not doc.xpath("//iframe | //object | //embed | //img | //link[@rel='preconnect']")
        assert not doc.xpath("//style | //script[not(@src)] | //*[@style]"), path  # all in static/
    for asset in ("site.css", "pages.js"):
        assert "//" not in re.sub(
            r"^\s*//.*$|/\*.*?\*/", "", (STATIC / asset).read_text(), flags=re.M | re.S
        )
    assert (
        "@import" not in (STATIC / "site.css").read_text()
        and "url(" not in (STATIC / "site.css").read_text()
    )


def test_pages_are_accessible_by_structure(client: FlaskClient) -> None:
    for path in page_paths(client):
        doc = html(client, path)
        assert doc.xpath("/html/@lang") == ["en"], path
        assert len(doc.xpath("//h1")) == 1, path
        assert len(doc.xpath("//main")) == 1 and doc.xpath("//header") and doc.xpath("//footer"), (
            path
        )
        assert doc.xpath("//a[@class='skip']/@href") == ["#main"]
        for nav in doc.xpath("//nav"):
            assert nav.get("aria-label"), path
        for field in doc.xpath("//input | //select | //textarea"):
            assert doc.xpath(f"//label[@for='{field.get('id')}']"), (path, field.get("name"))
        for section in doc.xpath("//section"):
            labelled = section.get("aria-labelledby")
            assert labelled and doc.xpath(f"//*[@id='{labelled}']"), path
        for article in doc.xpath("//article"):
            assert article.get("lang") in ("en", "ru", "kk"), path
        for button in doc.xpath("//button"):
            assert text(button), path
        ids = doc.xpath("//@id")
        assert len(ids) == len(set(ids)), path


# -- feed URLs opened in a browser tab: the feed's page ----------------------------------------


def browser_page(client: FlaskClient, path: str) -> lxml.html.HtmlElement:
    response = client.get(path, headers=BROWSER_TAB)
    assert (response.status_code, response.content_type) == (200, "text/html; charset=utf-8")
    assert response.headers["Vary"] == FEED_URL_VARY
    return lxml.html.fromstring(response.data)


def copy_box(doc: lxml.html.HtmlElement) -> tuple[str, str, list[str]]:
    """The feed banner's printed URL, its copy button's URL and its format links ("label href",
    " current" for the format whose URL the page is at)."""
    (banner,) = doc.xpath("//section[@id='feed-banner']")
    (box,) = banner.xpath(".//div[@class='subscribe']")
    (printed,) = box.xpath("span[@class='feed-url']/code")
    (copied,) = box.xpath("button/@data-copy")
    formats = [
        f"{text(a)} {a.get('href')}" + (" current" if a.get("aria-current") == "page" else "")
        for a in box.xpath("a")
    ]
    return text(printed), copied, formats


def page_titles(doc: lxml.html.HtmlElement) -> list[str]:
    return [text(article.xpath("h3")[0]) for article in doc.xpath("//article")]


def feed_titles(client: FlaskClient, path: str) -> list[str]:
    return [entry.title for entry in feedparser.parse(client.get(path).data).entries]


def test_feeds_carry_no_stylesheet(client: FlaskClient) -> None:
    for path, root in (
        ("/all.atom", b"<feed"),
        ("/agencies/mfa.rss", b"<rss"),
        ("/all.atom?limit=2", b"<feed"),
    ):
        body = client.get(path).data
        assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n" + root), path
        assert b"xml-stylesheet" not in body and not feedparser.parse(body).bozo
    assert client.get("/static/feed.xsl").status_code == 404


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feed_url_opened_in_a_browser_is_the_feeds_page(client: FlaskClient, fmt: str) -> None:
    doc = browser_page(client, f"/agencies/mfa-washington.{fmt}")
    name = "Embassy of the Republic of Kazakhstan in the United States of America"
    label = {"atom": "Atom", "rss": "RSS"}[fmt]
    assert text(doc.xpath("//title")[0]) == f"{name} – gov.kz news ({label} feed)"
    assert text(doc.xpath("//h1")[0]) == name
    assert text(doc.xpath("//section[@id='feed-banner']/h2")[0]) == "This is a feed"
    assert copy_box(doc) == (
        f"http://localhost/agencies/mfa-washington.{fmt}",
        f"http://localhost/agencies/mfa-washington.{fmt}",
        [
            "Atom /agencies/mfa-washington.atom" + " current" * (fmt == "atom"),
            "RSS /agencies/mfa-washington.rss" + " current" * (fmt == "rss"),
            "JSON /agencies/mfa-washington.json",
        ],
    )
    assert doc.xpath("//button/@aria-label") == [f"Copy URL of the {label} feed: {name}"]
    expected = [item for item in ITEMS if item.agency == "mfa-washington"]
    articles = doc.xpath("//article")
    assert [text(a.xpath("h3")[0]) for a in articles] == [item.title for item in expected]
    assert [a.xpath("h3/a/@href")[0] for a in articles] == [feed_link(item) for item in expected]
    assert [a.get("lang") for a in articles] == ["en"] * 3
    # Autodiscovery as on the page's own URL, and nothing of XSLT.
    assert doc.xpath("//link[@rel='alternate']/@href") == [
        f"http://localhost/agencies/mfa-washington.{each}" for each in ("atom", "rss", "json")
    ]
    assert (
        "xsl" not in client.get(f"/agencies/mfa-washington.{fmt}", headers=BROWSER_TAB).text.lower()
    )


def test_feed_url_page_keeps_the_query_and_stays_on_the_feed_url(client: FlaskClient) -> None:
    doc = browser_page(client, "/all.rss?limit=5&lang=en")
    first_page = "http://localhost/all.rss?limit=5&lang=en"
    assert copy_box(doc) == (
        first_page,
        first_page,
        [
            "Atom /all.atom?limit=5&lang=en",
            "RSS /all.rss?limit=5&lang=en current",
            "JSON /all.json?limit=5&lang=en",
        ],
    )
    assert page_titles(doc) == feed_titles(client, "/all.rss?limit=5&lang=en")
    assert len(page_titles(doc)) == 5
    languages = doc.xpath("//nav[@aria-label='Language of the items']//a")
    assert [(a.get("href"), a.get("aria-current")) for a in languages] == [
        ("/all.rss?limit=5", None),
        ("/all.rss?limit=5&lang=en", "page"),
        ("/all.rss?limit=5&lang=ru", None),
        ("/all.rss?limit=5&lang=kk", None),
    ]
    (older,) = doc.xpath("//nav[@aria-label='Pages']//a[@rel='next']/@href")
    assert older.startswith(first_page + "&after=")
    # An older page: its items, and still the feed's first page to copy (a cursor's page is
    # an archive that never gets a new item).
    second = browser_page(client, older.removeprefix("http://localhost"))
    assert copy_box(second)[:2] == (first_page, first_page)
    assert page_titles(second) == feed_titles(client, older.removeprefix("http://localhost"))
    assert page_titles(second)[0] == feed_titles(client, "/all.rss?limit=6&lang=en")[5]
    assert second.xpath("//nav[@aria-label='Pages']//a[@rel='prev']/@href")[0].startswith(
        "http://localhost/all.rss?limit=5&lang=en&before="
    )
    bad = client.get("/all.rss?lang=de", headers=BROWSER_TAB)
    assert (bad.status_code, bad.text) == (400, "bad lang: 'de' is not one of kk, ru, en\n")


def test_feed_url_page_copies_the_site_url(settings: Settings) -> None:
    app = create_app(replace(settings, site_url="https://feeds.example.org"))
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    doc = browser_page(app.test_client(), "/topics/world.atom?lang=ru")
    url = "https://feeds.example.org/topics/world.atom?lang=ru"
    assert copy_box(doc)[:2] == (url, url)


def test_feed_url_page_has_no_feed_validators(client: FlaskClient) -> None:
    """A browser tab never gets a 304 for the page from the feed's validators, nor the page's
    bytes as the feed's: the page has an ETag of its own (kept for outages, see
    feeds.web.stale), never the feed's, and no Last-Modified."""
    feed = client.get("/all.atom")
    validators = {
        "If-None-Match": feed.headers["ETag"],
        "If-Modified-Since": feed.headers["Last-Modified"],
    }
    page = client.get("/all.atom", headers={**BROWSER_TAB, **validators})
    assert (page.status_code, page.mimetype) == (200, "text/html")
    assert page.headers.get("ETag") not in (None, feed.headers["ETag"])
    assert page.headers.get("Last-Modified") is None
    again = client.get("/all.atom", headers={**BROWSER_TAB, "If-None-Match": page.headers["ETag"]})
    assert (again.status_code, again.headers["ETag"]) == (304, page.headers["ETag"])
    assert page.headers.get("Cache-Control") is None
    head = client.head("/all.atom", headers=BROWSER_TAB)
    assert (head.status_code, head.data, head.content_type) == (
        200,
        b"",
        "text/html; charset=utf-8",
    )
    assert head.headers["Content-Length"] == page.headers["Content-Length"]
    assert head.headers["Vary"] == FEED_URL_VARY
    # A reader's conditional request is answered as before.
    again = client.get("/all.atom", headers=validators)
    assert (again.status_code, again.headers["ETag"]) == (304, feed.headers["ETag"])


def test_feed_url_page_escapes_everything(
    app: Flask, client: FlaskClient, settings: Settings, tmp_path: Path
) -> None:
    hostile = "<script>alert('t')</script> & ]]> <b>bold</b>"
    dump = tmp_path / "hostile.txt"
    dump.write_text(
        f"News\n{hostile} 11.01.2026\n<img src=x onerror=alert(1)> body.Source : "
        "https://www.gov.kz/memleket/entities/mfa/press/news/details/999?lang=en",
        encoding="utf-8",
    )
    Ingester(app.extensions["feeds"].store, settings).run([str(dump)])
    for fmt in ("atom", "rss"):
        doc = browser_page(client, f"/agencies/mfa.{fmt}")
        assert not doc.xpath("//script[not(@src)] | //img | //b | //*[@onerror]")
        assert text(doc.xpath("//article/h3")[0]) == hostile
        assert text(doc.xpath("//article/p")[1]) == "<img src=x onerror=alert(1)> body."


@pytest.mark.parametrize(
    "written",
    [
        "http://gov.kz/memleket/entities/mfa/press/news/details/7?lang=kk",
        "HTTPS://WWW.GOV.KZ/memleket/entities/mfa/press/news/details/7",
        "https://www.gov.kz:443/memleket/entities/mfa/press/news/details/7?lang=ru",
    ],
)
def test_an_entrys_link_is_the_portals_own_address_whatever_the_dump_wrote(
    app: Flask, client: FlaskClient, settings: Settings, tmp_path: Path, written: str
) -> None:
    dump = tmp_path / "links.txt"
    dump.write_text(f"News\nA release with an odd link 11.01.2026\nBody.Source : {written}\n")
    Ingester(app.extensions["feeds"].store, settings).run([str(dump)])
    feed = feedparser.parse(client.get("/agencies/mfa.atom").data)
    (entry,) = [e for e in feed.entries if e.title == "A release with an odd link"]
    assert entry.link == "https://www.gov.kz/memleket/entities/mfa/press/news/details/7?lang=en"


def test_an_item_citing_a_link_urllib_refuses_is_served_everywhere(
    app: Flask, client: FlaskClient, settings: Settings, tmp_path: Path
) -> None:
    """urlsplit raises ValueError for "https://[..."; the item keeps it as its source and
    every page and feed holding the item is served."""
    bad = "https://[www.gov.kz/memleket/entities/mfa/press/news/details/5"
    dump = tmp_path / "bad-link.txt"
    dump.write_text(f"News\nA release citing a bad link 11.01.2026\nBody.Source : {bad}\n")
    Ingester(app.extensions["feeds"].store, settings).run([str(dump)])
    feed = feedparser.parse(client.get("/topics/news.atom").data)
    (entry,) = [e for e in feed.entries if e.title == "A release citing a bad link"]
    page = client.get(entry.link.removeprefix("http://localhost"))
    assert page.status_code == 200 and bad in page.get_data(as_text=True)
    for path in ("/all.json", "/all.rss", "/", "/topics/news", "/search?q=release"):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    ("headers", "page"),
    [
        ({}, False),
        # feedparser's own Accept header
        ({"Accept": feedparser.http.ACCEPT_HEADER}, False),
        ({"Accept": "*/*"}, False),
        # A browser tab: Fetch Metadata (https and localhost), else its Accept header.
        ({"Sec-Fetch-Dest": "document", "Accept": "*/*"}, True),
        ({"Sec-Fetch-Dest": "iframe", "Accept": "*/*"}, True),
        ({"Sec-Fetch-Dest": "empty", "Accept": "text/html"}, False),  # a script's fetch()
        (
            {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
            True,
        ),
    ],
)
def test_only_browser_tabs_get_the_page(client: FlaskClient, headers: dict, page: bool) -> None:
    for fmt, media_type in (("atom", "application/atom+xml"), ("rss", "application/rss+xml")):
        plain = client.get(f"/all.{fmt}")
        response = client.get(f"/all.{fmt}", headers=headers)
        assert response.headers["Vary"] == FEED_URL_VARY
        if page:
            assert response.mimetype == "text/html"
            assert response.headers.get("ETag") not in (None, plain.headers["ETag"])
        else:
            assert response.mimetype == media_type
            assert response.data == plain.data
            assert response.headers["ETag"] == plain.headers["ETag"]
    json_feed = client.get("/all.json", headers=headers)  # browsers show JSON as text
    assert (json_feed.mimetype, json_feed.headers["Vary"]) == (
        "application/feed+json",
        "Accept-Encoding",
    )
