"""Security (issue 9): script in dumps and in followed HTML never reaches any output, no
request leaves GOVKZ_BASE_URL, odd paths are 404, a request's work does not grow with the
store, and oversized query strings are refused."""

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import html5lib
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from pytest_httpserver import HTTPServer
from sqlalchemy import event, text

from feeds.dumps.dumpwrite import DumpItem, write_dump
from feeds.following.follow import Follower
from feeds.ingest import Ingester
from feeds.publish.feedservice import parse_query
from feeds.settings import Settings, load_settings
from feeds.store import Store
from feeds.web.app import MAX_QUERY_BYTES, create_app
from tests.following.test_follow import API, news
from tests.reliability import ATOM, gunicorn_server, raw_get, site_path
from tests.runs.test_gunicorn import free_port

PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<svg onload=alert(3)><script>alert(4)</script></svg>",
    '<a href="javascript:alert(5)">j</a>',
    '<a href="jav&#x09;ascript:alert(6)">tab</a>',
    '<iframe src="javascript:alert(7)"></iframe>',
    '<div style="width:expression(alert(8))">css</div>',
    "<style>@import 'javascript:alert(9)';</style>",
    "&lt;script&gt;alert(10)&lt;/script&gt;",
    "&#60;script&#62;alert(11)&#60;/script&#62;",
    "<![CDATA[<script>alert(12)</script>]]>",
    "]]><script>alert(13)</script>",
    '"><script>alert(14)</script>',
    "'><img src=x onerror=alert(15)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(16)>",
    '<object data="data:text/html,<script>alert(17)</script>"></object>',
    '<base href="javascript:alert(18)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(19)">',
    "{{7*7}} ${7*7} <%= 7*7 %>",
    "<body onload=alert(20)>",
    "<form action=javascript:alert(21)><input type=submit>",
    "<x onmouseover=alert(22)>hover</x>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgyMyk8L3NjcmlwdD4=">d</a>',
    '<svg><a xlink:href="javascript:alert(24)"><text>x</text></a></svg>',
    '<img src="x" onerror="&#97;lert(25)">',
    "javascript:alert(26)",
    '<noscript><p title="</noscript><img src=x onerror=alert(27)>">',
    '<a href="  &#14;javascript:alert(28)">lead</a>',
    "<scr<script>ipt>alert(29)</script>",
)
XSS_ID, FOLLOWED_ID = "990001", "990002"
SECTION = "<script>alert('section')</script> News"


# -- what counts as script in HTML -----------------------------------------------------------

DANGEROUS_TAGS = {
    "script",
    "iframe",
    "frame",
    "object",
    "embed",
    "applet",
    "base",
    "form",
    "style",
    "link",
    "meta",
    "body",
    "svg",
    "math",
}
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "cite",
    "xlink:href",
}
SAFE_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def url_scheme(value: str) -> str | None:
    """The scheme a browser sees: it drops tabs and newlines and trims controls and spaces."""
    cleaned = re.sub(r"[\t\n\r]", "", value).strip("\x00-\x20")
    match = _SCHEME.match(cleaned)
    return match[1].lower() if match else None


def unsafe_url(value: str | None) -> bool:
    return value is not None and url_scheme(value) not in (None, *SAFE_SCHEMES)


def script_in_html(markup: str, *, document: bool = False) -> list[str]:
    """Everything in an HTML document or fragment that could run script, as a browser
    parses it. Our pages may load /static/pages.js and their own stylesheet and links."""
    parser = html5lib.parse if document else html5lib.parseFragment
    tree = parser(markup, treebuilder="etree", namespaceHTMLElements=False)
    found = []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.split("}")[-1].lower()
        if element.tag.startswith("{"):  # svg, math: their own scripting and URL rules
            found.append(f"<{tag}> (foreign content)")
        if tag in DANGEROUS_TAGS and not (document and ours(tag, element)):
            found.append(f"<{tag}>")
        for name, value in element.attrib.items():
            name = (
                name.split("}")[-1].lower()
                if not name.startswith("{http://www.w3.org/1999/xlink}")
                else "xlink:href"
            )
            if name.startswith("on"):
                found.append(f"<{tag} {name}=...>")
            elif name in URL_ATTRIBUTES and unsafe_url(value):
                found.append(f"<{tag} {name}={value!r}>")
            elif name == "style" and re.search(r"expression|javascript|url\(", value, re.I):
                found.append(f"<{tag} style={value!r}>")
    return found


def ours(tag: str, element) -> bool:
    """The script, stylesheet, icon and alternate links our own page templates write."""
    if tag == "script":
        return element.get("src") == "/static/pages.js" and not (element.text or "").strip()
    if tag == "link":
        return element.get("rel") in {"stylesheet", "icon", "alternate"} and not unsafe_url(
            element.get("href")
        )
    if tag == "meta":  # charset and viewport; never a refresh
        return element.get("http-equiv", "content-type").lower() == "content-type"
    return (
        tag in {"body", "form"}
        and not any(a.startswith("on") for a in element.attrib)
        and not unsafe_url(element.get("action"))
    )


# -- the hostile store ------------------------------------------------------------------------


def hostile_dump(path: Path) -> None:
    link = "https://www.gov.kz/memleket/entities/mfa/press/news/details/{id}?lang=en"
    items = [
        DumpItem(
            title=f"Payload {i} {payload}",
            day=date(2026, 1, 11),
            body=f"Before {payload} after.\n{payload}",
            link=link.format(id=f"99{i:04d}") + ('"><script>alert(30)</script>' if i == 0 else ""),
            other_sources=(
                'https://top-news.kz/"><script>alert(31)</script>',
                f"https://x.kz/{quote(payload)}",
            ),
        )
        for i, payload in enumerate(PAYLOADS)
    ]
    items.append(
        DumpItem(
            "A followed item with hostile HTML",
            date(2026, 1, 12),
            "Dump text.",
            link.format(id=FOLLOWED_ID),
        )
    )
    items.append(DumpItem(f"No link {PAYLOADS[0]}", date(2026, 1, 12), "\n".join(PAYLOADS)))
    path.write_text(write_dump(SECTION, items), encoding="utf-8")


@pytest.fixture
def hostile_app(settings: Settings, httpserver: HTTPServer, tmp_path: Path) -> Flask:
    httpserver.expect_request(API.format(FOLLOWED_ID)).respond_with_json(
        news(
            FOLLOWED_ID,
            title=f"Followed {PAYLOADS[1]}",
            body="".join(f"<p>{p}</p>" for p in PAYLOADS),
            heropic="java\tscript:alert(40)",
        )
    )
    settings = replace(
        settings, govkz_base_url=httpserver.url_for("/").rstrip("/"), follow_rate=1000.0
    )
    app = create_app(settings)
    store: Store = app.extensions["feeds"].store
    dump = tmp_path / "hostile.txt"
    hostile_dump(dump)
    Ingester(store, settings).run([str(dump)])
    for row in store.item_rows():  # follow only the one item the fake API knows
        if row["govkz_id"] != FOLLOWED_ID:
            store.save_follow_failure(
                row["id"], "pending", "not in this test", datetime.now(UTC) + timedelta(days=1)
            )
    assert Follower(store, settings, Ingester(store, settings).rules).run().changed == 1
    return app


def feed_urls(client: FlaskClient) -> list[str]:
    opml = etree.fromstring(client.get("/feeds.opml").data)
    return [site_path(o.get("xmlUrl")) for o in opml.iter("outline") if o.get("xmlUrl")]


def html_fields(path: str, body: bytes) -> Iterator[tuple[str, str]]:
    """(where, HTML) of every field of a feed that readers take as HTML."""
    if path.split("?")[0].endswith(".json"):
        for item in json.loads(body)["items"]:
            yield f"{path} content_html", item["content_html"]
        return
    root = etree.fromstring(body)
    for content in root.iter(f"{ATOM}content"):
        if content.get("type") == "html":
            yield f"{path} atom:content", content.text or ""
    for item in root.iter("item"):
        yield f"{path} rss:description", item.findtext("description") or ""
        yield (
            f"{path} content:encoded",
            item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or "",
        )
    channel = root.find("channel")
    if channel is not None:
        yield f"{path} rss:channel/description", channel.findtext("description") or ""


def feed_urls_in(path: str, body: bytes) -> Iterator[str]:
    if path.split("?")[0].endswith(".json"):
        for item in json.loads(body)["items"]:
            yield from (item.get(k) for k in ("url", "external_url", "image") if item.get(k))
        return
    root = etree.fromstring(body)
    yield from (link.get("href") for link in root.iter(f"{ATOM}link"))
    yield from (e.get("url") for e in root.iter("enclosure"))
    yield from (link.text for link in root.iter("link") if link.text)


def test_no_script_reaches_any_output(hostile_app: Flask) -> None:
    client = hostile_app.test_client()
    found: list[str] = []
    paths = feed_urls(client)
    assert {"/agencies/mfa.atom", "/topics/script-alert-section-script-news.atom"} <= set(paths)
    pages = [
        "/",
        "/?q=" + quote(PAYLOADS[0]),
        "/agencies/mfa",
        "/topics/script-alert-section-script-news",
    ]
    entries = 0
    for path in paths:
        for fmt in ("atom", "rss", "json"):
            feed_path = path.removesuffix(".atom") + f".{fmt}?limit=500"
            response = client.get(feed_path)
            assert response.status_code == 200
            for where, markup in html_fields(feed_path, response.data):
                found += [f"{where}: {f}" for f in script_in_html(markup)]
                entries += 1
            found += [
                f"{feed_path}: URL {url!r}"
                for url in feed_urls_in(feed_path, response.data)
                if unsafe_url(url)
            ]
            if fmt != "json":  # as a browser tab gets it: the feed's page
                shown = client.get(feed_path, headers={"Sec-Fetch-Dest": "document"})
                assert shown.mimetype == "text/html"
                found += [
                    f"{feed_path} in a browser tab: {f}"
                    for f in script_in_html(shown.text, document=True)
                ]
    for row in hostile_app.extensions["feeds"].store.item_rows():
        pages.append(f"/items/{row['uid']}")
    for page in pages:
        response = client.get(page, headers={"Accept": "text/html"})
        assert response.status_code == 200, page
        found += [f"{page}: {f}" for f in script_in_html(response.text, document=True)]
    assert found == []
    assert entries > 3 * len(PAYLOADS)
    # The payloads are shown, as text: nothing was lost to get there.
    page = client.get("/agencies/mfa").text
    assert "Payload 0 &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{7*7}}" in page and ">49<" not in page


def test_error_messages_are_plain_text(hostile_app: Flask) -> None:
    client = hostile_app.test_client()
    for path in (
        "/items/" + quote(PAYLOADS[0]),
        "/all.atom?limit=" + quote(PAYLOADS[1]),
        "/all.atom?lang=" + quote(PAYLOADS[0]),
    ):
        response = client.get(path)
        assert response.status_code in (400, 404)
        assert response.mimetype == "text/plain", path


# -- SSRF: nothing but GOVKZ_BASE_URL is ever asked -------------------------------------------


def test_no_request_leaves_govkz_base_url(
    settings: Settings, httpserver: HTTPServer, tmp_path: Path
) -> None:
    evil = HTTPServer(host="127.0.0.1", port=free_port())
    evil.expect_request(re.compile(".*")).respond_with_json(news("1"))
    evil.start()
    try:
        port = evil.port
        path = "/memleket/entities/mfa/press/news/details/{id}"
        looks_like_govkz = [
            f"https://www.gov.kz.evil.example{path}",
            f"https://www.gov.kz@127.0.0.1:{port}{path}",
            f"http://www.gov.kz:{port}{path}",
            f"http://gov.kz:8080{path}",
            f"http://127.0.0.1:{port}{path}",
            f"http://2130706433:{port}{path}",
            f"http://0x7f.0.0.1:{port}{path}",
            f"http://[::ffff:127.0.0.1]:{port}{path}",
            f"https://www.gov.kz%2F@127.0.0.1:{port}{path}",
            f"https://www.gov.kz\\@127.0.0.1:{port}{path}",
            f"https://www.gov.kz#@127.0.0.1:{port}{path}",
        ]
        items = [
            DumpItem(
                f"Looks like gov.kz {i}", date(2026, 1, 16), "Body.", url.format(id=880_000 + i)
            )
            for i, url in enumerate(looks_like_govkz)
        ]
        # Real gov.kz items whose API answers redirect off the host, in every spelling.
        redirects = [
            f"http://127.0.0.1:{port}/a", f"//127.0.0.1:{port}/b", f"http://localhost:{port}/c",
            f"http://127.0.0.1:{httpserver.port}@127.0.0.1:{port}/d", f"http:/\\127.0.0.1:{port}/e",
            f"https://127.0.0.1:{port}/f", f"http://[::1]:{port}/g", f"ftp://127.0.0.1:{port}/h",
            f"http://127.0.0.1:{httpserver.port}\\@127.0.0.1:{port}/i",
        ]  # fmt: skip
        for i, location in enumerate(redirects):
            item_id = 881_000 + i
            items.append(
                DumpItem(
                    f"Redirected {i}",
                    date(2026, 1, 16),
                    "Body.",
                    f"https://www.gov.kz{path.format(id=item_id)}",
                )
            )
            httpserver.expect_request(API.format(item_id)).respond_with_data(
                "", status=302, headers={"Location": location}
            )
        dump = tmp_path / "ssrf.txt"
        dump.write_text(write_dump("News", items), encoding="utf-8")
        settings = replace(
            settings,
            govkz_base_url=httpserver.url_for("/").rstrip("/"),
            follow_rate=1000.0,
            fetch_timeout=2.0,
        )
        store = Store(settings.database_url)
        Ingester(store, settings).run([str(dump)])
        followable = {r["govkz_id"] for r in store.item_rows() if store.follow_state(r["id"])}
        assert followable == {
            str(881_000 + i) for i in range(len(redirects))
        }  # only real gov.kz links
        report = Follower(store, settings, Ingester(store, settings).rules).run(limit=1000)
        assert (report.attempted, report.failed) == (len(redirects), len(redirects)), report.errors
        assert evil.log == []
        # "http:/\\host:port/e" has no host: it is a path on the same origin, as urljoin reads it.
        asked = {request.path for request, _ in httpserver.log}
        assert asked == {API.format(881_000 + i) for i in range(len(redirects))} | {
            f"/\\127.0.0.1:{port}/e"
        }
        store.close()
    finally:
        evil.stop()


# -- odd paths and oversized queries, over real HTTP -----------------------------------------

ODD_PATHS = (
    "/static/../feeds/web.py", "/static/..%2f..%2fpyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static/....//....//pyproject.toml", "/static/..%5c..%5cpyproject.toml", "/static/feed.xsl%00.png",
    "/agencies/..%2f..%2fetc%2fpasswd.atom", "/agencies/%2e%2e.atom", "/agencies/MFA.atom", "/agencies/mfa.atom/",
    "/agencies/mfa..atom", "/agencies/mfa.atom%00", "/agencies/mfa%00.atom", "/agencies/-mfa.atom",
    "/agencies/%3Cscript%3E.atom", "/agencies/", "/agencies/.atom", "/agencies/" + "a" * 129 + ".atom",
    "/agencies/" + "a" * 128 + ".atom", "/topics/%F0%9F%92%A9.atom", "/topics/news.atom.atom", "/topics/..",
    "/items/../../etc/passwd", "/items/%00", "/items/'%20OR%201=1%20--", "/agencies/mfa%2Fpress.atom",
    "/./all.atom", "/all.atom/..", "/ALL.atom", "/all.ATOM", "/agencies/mfa;x.atom", "/agencies/mfa.atom;x",
    "/agencies/mfa-washington/../mfa.atom", "/topics/news/..%2f..%2f..%2fetc%2fpasswd",
)  # fmt: skip
REDIRECTED = ("/static//etc/passwd", "/static/%2fetc%2fpasswd")  # werkzeug merges the slashes


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[str]:
    Ingester(Store(settings.database_url), settings).run(settings.dumps)
    with gunicorn_server(
        {"FEEDS_DATABASE_URL": settings.database_url}, tmp_path / "gunicorn.log"
    ) as (base, _):
        yield base


def test_odd_paths_are_404_and_oversized_queries_414(served: str) -> None:
    answers = {path: raw_get(served, path) for path in ODD_PATHS}
    assert {path: a.status for path, a in answers.items() if a.status != 404} == {}
    for path in REDIRECTED:  # to the same path with one slash, on this server
        answer = raw_get(served, path)
        assert answer.status == 308 and answer.headers["location"].startswith(f"{served}/static/")
        assert raw_get(served, site_path(answer.headers["location"])).status == 404
    leaked = [
        p
        for p, a in [*answers.items()]
        if b"[project]" in a.body or b"root:" in a.body or b"def create_app" in a.body
    ]
    assert leaked == []
    assert raw_get(served, "/all.atom").status == 200
    for length in (MAX_QUERY_BYTES + 1, 4000, 9000, 70_000):  # the app's limit, then gunicorn's
        assert raw_get(served, "/all.atom?x=" + "a" * length).status == 414, length
    assert raw_get(served, "/all.atom?limit=5&x=" + "a" * (MAX_QUERY_BYTES - 20)).status == 200


# -- a request's work does not grow with the store -------------------------------------------


def scale_dump(path: Path, count: int) -> None:
    """`count` items: a fifth Russian; "edu" items only English; embassies under mfa; two
    rare English-only bodies under mvd (a sparse subtree)."""
    agencies = ["mfa", *(f"mfa-e{k}" for k in range(20)), "kgd", "almaty", "mod"]
    items = []
    for i in range(count):
        agency = "edu" if i % 10 == 7 else agencies[i % len(agencies)]
        if i % 500 in (13, 14):
            agency = f"mvd-e{i % 500 - 12}"
        russian = i % 5 == 0 and agency != "edu"
        items.append(
            DumpItem(
                title=(
                    f"Новости министерства номер {i}" if russian else f"Ministry news number {i}"
                ),
                day=date(2025, 1, 1) - timedelta(days=i // 50),
                body="Текст новости." if russian else "The text of the news.",
                link=f"https://www.gov.kz/memleket/entities/{agency}/press/news/details/{1000 + i}?lang=en",
            )
        )
    path.write_text(write_dump("News", items), encoding="utf-8")


SHAPES = [  # each page reads as much in a store ten times as big
    "/all.atom",
    "/all.atom?lang=ru",
    "/all.atom?limit=500",
    "/all.atom?limit=999999999",
    "/agencies/edu.atom",
    "/topics/news.atom",
    "/topics/news.atom?limit=500",
    "/agencies/mfa.atom",  # a parent: one index range per agency of its subtree, merged
    # Pages small enough to be full in the small store too (a page not full there is less work).
    "/agencies/mfa-e3.atom?lang=ru&limit=5",  # ix_items_agency_lang
    "/agencies/edu.atom?lang=ru",  # no such item: an empty index range
    "/topics/news.atom?lang=kk",  # no such item: an empty range of ix_item_topics_lang
    "/topics/news.atom?lang=ru",
    "/agencies/mvd.atom?limit=3",  # a sparse subtree: one index range per agency, merged
    "/agencies/mvd.atom?lang=ru",  # no such item in the subtree
    "/agencies/mfa.atom?lang=ru&limit=5",
    # Days of publication (issue 28): a range of the sort key every index ends with.
    "/all.atom?since=2024-12-26",
    "/all.atom?until=2024-12-20&limit=20",
    "/topics/news.atom?until=2024-12-20&since=2024-12-14&limit=20",
    "/agencies/mfa.atom?since=2024-12-28",  # merged, each agency's range narrowed
    "/agencies/edu.atom?lang=en&until=2024-12-20&limit=5",
]


def store_work(folder: Path, count: int, database_url: str) -> dict[str, int]:
    """SQLite virtual machine steps (in hundreds) of the feed queries of each path."""
    dump = folder / f"scale-{count}.txt"
    scale_dump(dump, count)
    store = Store(database_url)
    Ingester(store, _settings(database_url)).run([str(dump)])
    steps = [0]

    @event.listens_for(store.engine, "connect")
    def count_steps(dbapi_connection, _record) -> None:
        dbapi_connection.set_progress_handler(lambda: steps.__setitem__(0, steps[0] + 1), 100)

    store.engine.dispose()
    service = create_app(_settings(database_url)).extensions["feeds"]
    service.store = store
    work = {}
    for path in SHAPES:
        ref = service.resolve(*_ref_of(path))
        query = parse_query(dict(p.split("=") for p in path.partition("?")[2].split("&") if p))
        service.rows(ref, query)  # warm: slugs and catalog are read once per content version
        steps[0] = 0
        page = service.rows(ref, query)
        work[path] = steps[0]
        assert len(page.rows) <= 500
    store.close()
    return work


def _settings(database_url: str) -> Settings:
    return load_settings(env={}, database_url=database_url)


def _ref_of(path: str) -> tuple[str, str]:
    plain = path.split("?")[0].removesuffix(".atom")
    if plain == "/all":
        return ("all", "")
    kind, slug = plain.strip("/").split("/")
    return ({"agencies": "agency", "topics": "topic"}[kind], slug)


@pytest.fixture(scope="module")
def work_by_size(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, int]]:
    folder = tmp_path_factory.mktemp("scale")
    small = store_work(folder, 1_000, f"sqlite:///{folder / 'small.sqlite3'}")
    large = store_work(folder, 10_000, f"sqlite:///{folder / 'large.sqlite3'}")
    return {path: (small[path], large[path]) for path in SHAPES}


@pytest.mark.parametrize("path", SHAPES)
def test_a_page_reads_the_same_whatever_the_store_holds(work_by_size: dict, path: str) -> None:
    small, large = work_by_size[path]
    assert large <= small * 1.5 + 5, (path, small, large)  # ten times the items, same work


def recorded_statements(engine: Any) -> list[tuple[str, Any]]:
    """Every (statement, parameters) the engine runs from now on."""
    seen: list[tuple[str, Any]] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda c, cur, statement, params, ctx, many: seen.append((statement, params)),
    )
    return seen


def is_page_query(statement: str) -> bool:
    """A feed page's rows query (not the EXPLAIN this test runs of it)."""
    return (
        " LIMIT " in statement and "FROM items" in statement and not statement.startswith("EXPLAIN")
    )


def test_feed_queries_use_indexes(tmp_path: Path) -> None:
    """EXPLAIN QUERY PLAN of every feed query: an index for each table, never a full scan or
    a sort of the whole table; and ?limit never asks for more than 501 rows."""
    url = f"sqlite:///{tmp_path / 'plan.sqlite3'}"
    dump = tmp_path / "plan.txt"
    scale_dump(dump, 300)
    store = Store(url)
    Ingester(store, _settings(url)).run([str(dump)])
    app = create_app(_settings(url))
    engine = app.extensions["feeds"].store.engine
    seen = recorded_statements(engine)
    client = app.test_client()
    plans = {}
    for path in [*SHAPES, "/topics/news.atom?limit=3", "/agencies/mfa-e3.atom?limit=3"]:
        response = client.get(path)
        assert response.status_code == 200
        nxt = [
            link.get("href")
            for link in etree.fromstring(response.data).iter(f"{ATOM}link")
            if link.get("rel") == "next"
        ]
        seen.clear()
        if nxt:
            assert client.get(site_path(nxt[0])).status_code == 200
        else:
            assert client.get(path.replace(".atom", ".json")).status_code == 200
        for statement, params in list(seen):
            if is_page_query(statement):
                with engine.connect() as connection:
                    plan = [
                        row[3]
                        for row in connection.exec_driver_sql(
                            "EXPLAIN QUERY PLAN " + statement, params
                        )
                    ]
                plans[(path, statement)] = plan
                assert params[-2 if "OFFSET" in statement else -1] <= 501
    assert plans
    full_scans = {
        k[0]: p
        for k, p in plans.items()
        if any(re.match(r"SCAN (items|item_topics)$", step) for step in p)
    }
    assert full_scans == {}


@pytest.mark.postgres
def test_feed_queries_on_postgresql_read_a_page_not_the_table(
    postgres_url: str, tmp_path: Path
) -> None:
    """EXPLAIN ANALYZE on PostgreSQL: the rows a bounded feed query reads stay near the page size."""
    dump = tmp_path / "scale.txt"
    scale_dump(dump, 8_000)
    store = Store(postgres_url)
    Ingester(store, _settings(postgres_url)).run([str(dump)])
    with store.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    app = create_app(_settings(postgres_url))
    engine = app.extensions["feeds"].store.engine
    seen = recorded_statements(engine)
    client = app.test_client()
    read = {}
    for path in SHAPES:
        client.get(path)  # warm
        # As before variants left the store: the fast path still answers the paths without
        # a query from its memory, so only the variants are measured here.
        for cache in (app.extensions["feeds"].pages, app.extensions["feeds"].variants):
            cache.clear()
        with store.engine.begin() as connection:
            connection.execute(text("DELETE FROM rendered"))
        seen.clear()
        assert client.get(path).status_code == 200
        for statement, params in list(seen):
            if is_page_query(statement):
                with engine.connect() as connection:
                    plan = connection.exec_driver_sql(
                        "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params
                    ).scalar()
                read[path] = max(_rows_read(plan[0]["Plan"]))
    assert read and all(rows <= 2_000 for rows in read.values()), sorted(read.items())
    store.close()


def _rows_read(node: dict) -> Iterator[int]:
    """Rows each scan of a plan read (actual rows, plus rows removed by its filter)."""
    if "Scan" in node["Node Type"]:
        yield int(
            node["Actual Rows"] * node.get("Actual Loops", 1)
            + node.get("Rows Removed by Filter", 0)
        )
    for child in node.get("Plans", []):
        yield from _rows_read(child)
