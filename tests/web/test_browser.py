"""End to end in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright):
the service runs on 127.0.0.1 with the sample dumps ingested, and the browser uses its pages
and feeds as a person would. Screenshots go to var/screenshots/ (git-ignored).

Skipped, saying why, when /usr/bin/chromium or the playwright package is missing: install
them with `apt-get install -y chromium chromium-driver` and the dev extras (.ci/run does).
Playwright never downloads a browser here: it launches the system one. The test that pastes a
copied feed URL into newsboat is skipped, saying so, without `newsboat` (.ci/run installs it).
"""

import os
import shutil
import sqlite3
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import feedparser
import pytest
from werkzeug.serving import make_server

from feeds.ingest import Ingester
from feeds.settings import load_settings
from feeds.web.app import create_app
from tests.conftest import PROJECT, SAMPLE_DUMPS
from tests.expected_items import ITEMS, feed_link

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = PROJECT / "var" / "screenshots"
MFA_FAMILY = ["mfa", "mfa-brussels", "mfa-geneva", "mfa-ljubljana", "mfa-washington"]

if not CHROMIUM.is_file():
    pytest.skip(
        f"browser tests skipped: {CHROMIUM} not found "
        "(apt-get install -y chromium chromium-driver; .ci/run does)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="browser tests skipped: the playwright package is not installed "
    "(pip install -e '.[dev]'; never `playwright install`: the tests use /usr/bin/chromium)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The application on a free port of 127.0.0.1, in a thread; its base URL."""
    database = tmp_path_factory.mktemp("browser") / "feeds.sqlite3"
    settings = load_settings(
        env={}, database_url=f"sqlite:///{database}", dumps=tuple(map(str, SAMPLE_DUMPS))
    )
    app = create_app(settings)
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        app.extensions["feeds"].store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator["sync_api.Browser"]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: "sync_api.Browser", server: str) -> Iterator["sync_api.Page"]:
    """A fresh tab that may talk to the test server only; anything else fails the test."""
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    elsewhere: list[str] = []
    errors: list[str] = []

    def only_here(route: "sync_api.Route") -> None:
        if route.request.url.startswith(server + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_here)
    tab = context.new_page()
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert elsewhere == [], "requests to other hosts"
    assert errors == [], "JavaScript errors"


def fetch(url: str, accept: str = feedparser.http.ACCEPT_HEADER) -> tuple[str, bytes]:
    """GET as a feed reader would: (content type, body)."""
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Content-Type"], response.read()


def opml_paths(server: str) -> list[str]:
    _, body = fetch(server + "/feeds.opml", accept="*/*")
    outlines = ElementTree.fromstring(body).iter("outline")
    return [urlsplit(o.get("xmlUrl")).path for o in outlines if o.get("xmlUrl")]


def visible_slugs(page: "sync_api.Page", table: str) -> list[str]:
    return page.eval_on_selector_all(
        f"#{table} tbody tr",
        "rows => rows.filter(row => row.offsetParent !== null).map(row => row.dataset.slug)",
    )


def screenshot(page: "sync_api.Page", name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000
    return path


# -- the index ------------------------------------------------------------------------------


def test_index_lists_every_feed(page: "sync_api.Page", server: str) -> None:
    page.goto("/")
    assert page.title() == "gov.kz news feeds"
    atom = page.eval_on_selector_all(
        "main a[type='application/atom+xml']", "links => links.map(a => a.getAttribute('href'))"
    )
    assert sorted(atom) == sorted(opml_paths(server))
    assert len(visible_slugs(page, "agency-table")) + len(visible_slugs(page, "topic-table")) == 43
    # With JavaScript the copy buttons replace the printed URLs in the lists.
    assert page.locator("#agency-table button[data-copy]").first.is_visible()
    assert not page.locator("#agency-table .feed-url").first.is_visible()
    screenshot(page, "index", full_page=False)
    screenshot(page, "index-full")


def test_typing_in_search_narrows_the_lists(page: "sync_api.Page") -> None:
    page.goto("/")
    search = page.get_by_label("Find an agency or a topic")
    search.press_sequentially("mfa", delay=30)
    status = page.locator("#search-status")
    sync_api.expect(status).to_have_text("5 of 43 feeds match “mfa”.")
    assert visible_slugs(page, "agency-table") == MFA_FAMILY
    assert not page.locator("#topic-table").is_visible()
    sync_api.expect(page.locator("[aria-labelledby='topics-heading'] .empty")).to_have_text(
        "No topic matches “mfa”."
    )
    assert page.url.endswith("/?q=mfa")  # shareable, and what the server would show
    search.press_sequentially(" wash", delay=30)
    sync_api.expect(status).to_have_text("1 of 43 feeds match “mfa wash”.")
    assert visible_slugs(page, "agency-table") == ["mfa", "mfa-washington"]
    assert page.locator("tr[data-slug='mfa']").get_attribute("class") == "d0 context"
    search.fill("")
    sync_api.expect(status).to_have_text("")
    assert len(visible_slugs(page, "agency-table")) + len(visible_slugs(page, "topic-table")) == 43
    search.press_sequentially("diplomacy", delay=30)
    sync_api.expect(status).to_have_text("1 of 43 feeds match “diplomacy”.")
    assert visible_slugs(page, "topic-table") == ["diplomacy"]
    assert not page.locator("#agency-table").is_visible()


def test_search_from_a_narrowed_page_reaches_every_feed(page: "sync_api.Page") -> None:
    page.goto("/?q=mfa")
    assert visible_slugs(page, "agency-table") == MFA_FAMILY  # the server narrowed it
    search = page.get_by_label("Find an agency or a topic")
    search.fill("kgd")
    sync_api.expect(page.locator("#search-status")).to_have_text("5 of 43 feeds match “kgd”.")
    assert visible_slugs(page, "agency-table") == [
        "minfin",
        "kgd",
        "kgd-akmola",
        "kgd-kostanay",
        "kgd-vko",
        "kgd-zhetysu",
    ]


def test_search_works_without_javascript(browser: "sync_api.Browser", server: str) -> None:
    context = browser.new_context(base_url=server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/")
        assert not page.locator("button[data-copy]").first.is_visible()
        url = page.locator("#agency-table .feed-url code").first
        assert url.is_visible() and url.inner_text().startswith(server + "/agencies/")
        page.get_by_label("Find an agency or a topic").fill("mfa")
        page.locator("#main").get_by_role("button", name="Search").click()  # not the header's
        page.wait_for_url("**/?q=mfa")
        assert visible_slugs(page, "agency-table") == MFA_FAMILY
        assert page.locator("#search-status").inner_text() == "5 of 43 feeds match “mfa”."
    finally:
        context.close()


# -- subscribing ----------------------------------------------------------------------------


def test_subscribe_link_leads_to_a_feed_that_parses(page: "sync_api.Page", server: str) -> None:
    page.goto("/")
    row = page.locator("tr[data-slug='mfa-washington']")
    for fmt in ("Atom", "RSS"):
        href = row.get_by_role("link", name=f"{fmt} feed:").get_attribute("href")
        assert href == f"/agencies/mfa-washington.{fmt.lower()}"
        content_type, body = fetch(server + href)
        assert content_type.startswith(f"application/{fmt.lower()}+xml")
        parsed = feedparser.parse(body)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert [e.link for e in parsed.entries] == [
            feed_link(i) for i in ITEMS if i.agency == "mfa-washington"
        ]
    json_href = row.get_by_role("link", name="JSON feed:").get_attribute("href")
    content_type, _ = fetch(server + json_href)
    assert content_type == "application/feed+json; charset=utf-8"


def test_copy_button_puts_the_feed_url_on_the_clipboard(page: "sync_api.Page", server: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page.goto("/")
    button = page.locator("tr[data-slug='kgd'] button[data-copy]")
    button.click()
    sync_api.expect(button).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{server}/agencies/kgd.atom"
    sync_api.expect(page.locator("#announce")).to_have_text(f"Copied {copied}")
    parsed = feedparser.parse(fetch(copied)[1])
    assert not parsed.bozo and parsed.feed.title.startswith("State Revenue Committee")


# -- feed pages -----------------------------------------------------------------------------


def test_agency_page_shows_its_items(page: "sync_api.Page") -> None:
    page.goto("/agencies/mfa")
    assert (
        page.locator("h1").inner_text()
        == "Ministry of Foreign Affairs of the Republic of Kazakhstan"
    )
    expected = [item for item in ITEMS if item.agency and item.agency.startswith("mfa")]
    articles = page.locator("article")
    sync_api.expect(articles).to_have_count(len(expected))
    titles = articles.locator("h3").all_inner_texts()
    assert sorted(titles) == sorted(item.title for item in expected)
    assert articles.evaluate_all("items => items.map(a => a.lang)") == ["en"] * len(expected)
    first = articles.first
    assert (
        first.get_by_role("link", name="Read on gov.kz")
        .get_attribute("href")
        .startswith("https://www.gov.kz/memleket/entities/mfa-")
    )
    assert page.get_by_role("button", name="Copy URL of the Atom feed").is_visible()
    screenshot(page, "agency-mfa", full_page=False)
    screenshot(page, "agency-mfa-full")
    first.locator("p.meta a").first.click()  # a topic
    page.wait_for_url("**/topics/*")
    assert page.locator("article").count() > 0


def test_pages_fit_a_phone(browser: "sync_api.Browser", server: str) -> None:
    context = browser.new_context(base_url=server, viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        for path in ("/", "/agencies/mfa-washington"):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (path, width)
        page.goto("/")
        screenshot(page, "index-phone", full_page=False)
    finally:
        context.close()


# -- feeds opened in the browser ------------------------------------------------------------

WASHINGTON = "Embassy of the Republic of Kazakhstan in the United States of America"


def open_from_the_index(page: "sync_api.Page", link: str) -> "sync_api.Response":
    """Click a link of the mfa-washington row of the index as a person would; the answer."""
    page.goto("/")
    with page.expect_navigation() as navigation:
        page.locator("tr[data-slug='mfa-washington']").get_by_role("link", name=link).click()
    response = navigation.value
    assert response is not None
    return response


def copy_the_feed_url(page: "sync_api.Page") -> str:
    button = page.locator("#feed-banner").get_by_role("button", name="Copy URL")
    button.click()
    sync_api.expect(button).to_have_text("Copied")
    return page.evaluate("navigator.clipboard.readText()")


@pytest.mark.parametrize(("fmt", "label"), [("atom", "Atom"), ("rss", "RSS")])
def test_clicking_a_feed_on_the_index_shows_its_page(
    page: "sync_api.Page", server: str, fmt: str, label: str
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    response = open_from_the_index(page, f"{label} feed: {WASHINGTON}")
    url = f"{server}/agencies/mfa-washington.{fmt}"
    assert (page.url, response.status) == (url, 200)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert page.title() == f"{WASHINGTON} – gov.kz news ({label} feed)"
    assert page.locator("h1").inner_text() == WASHINGTON
    banner = page.locator("#feed-banner")
    assert banner.locator("h2").inner_text() == "This is a feed"
    assert banner.locator(".feed-url code").inner_text() == url
    expected = [item for item in ITEMS if item.agency == "mfa-washington"]
    assert page.locator("article h3").all_inner_texts() == [item.title for item in expected]
    # No XSLT: Chromium's warning banner is not there and nothing on the page mentions it.
    assert page.locator("xslt-warning-banner").count() == 0
    assert "xslt" not in page.locator("body").inner_text().lower()
    assert "xsl" not in page.content().lower()
    screenshot(page, f"mfa-washington-{fmt}-in-a-tab", full_page=False)
    copied = copy_the_feed_url(page)
    assert copied == url
    content_type, body = fetch(copied)  # as a feed reader fetches what was pasted into it
    assert content_type == f"application/{fmt}+xml; charset=utf-8"
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == f"{WASHINGTON} – gov.kz news"
    assert [e.link for e in parsed.entries] == [feed_link(item) for item in expected]


@pytest.mark.parametrize("label", ["Atom", "RSS"])
def test_newsboat_reads_the_copied_url(
    page: "sync_api.Page", server: str, tmp_path: Path, label: str
) -> None:
    newsboat = shutil.which("newsboat")
    if newsboat is None:
        pytest.skip("NEWSBOAT MISSING: apt-get install -y newsboat (.ci/run does); not tested")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    open_from_the_index(page, f"{label} feed: {WASHINGTON}")
    copied = copy_the_feed_url(page)
    assert copied == f"{server}/agencies/mfa-washington.{label.lower()}"
    (tmp_path / "urls").write_text(copied + "\n", encoding="utf-8")
    (tmp_path / "config").write_text("", encoding="utf-8")
    cache = tmp_path / "cache.db"
    files = ["-u", str(tmp_path / "urls"), "-C", str(tmp_path / "config"), "-c", str(cache)]
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TERM": "dumb"}
    done = subprocess.run(
        [newsboat, *files, "-x", "reload"], env=environment, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    with closing(sqlite3.connect(cache)) as db:
        feeds = db.execute("SELECT rssurl, title FROM rss_feed").fetchall()
        titles = [row[0] for row in db.execute("SELECT title FROM rss_item")]
    assert feeds == [(copied, f"{WASHINGTON} – gov.kz news")]
    expected = [item.title for item in ITEMS if item.agency == "mfa-washington"]
    assert sorted(titles) == sorted(expected)


def test_rss_feed_page_pages_through_the_feed(page: "sync_api.Page", server: str) -> None:
    page.goto("/topics/world.rss?limit=5")
    first_page = f"{server}/topics/world.rss?limit=5"
    assert page.locator("#feed-banner .feed-url code").inner_text() == first_page
    assert page.locator("h1").inner_text() == "World"
    sync_api.expect(page.locator("article")).to_have_count(5)
    first_titles = page.locator("article h3").all_inner_texts()
    page.get_by_role("link", name="Older →").click()
    page.wait_for_url("**/topics/world.rss?limit=5&after=*")
    sync_api.expect(page.locator("article")).to_have_count(5)
    assert set(page.locator("article h3").all_inner_texts()).isdisjoint(first_titles)
    # Still the feed's first page to copy: an older page never gets a new item.
    assert page.locator("#feed-banner .feed-url code").inner_text() == first_page


def test_feed_page_in_a_tab_without_javascript_shows_the_url(
    browser: "sync_api.Browser", server: str
) -> None:
    context = browser.new_context(base_url=server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/all.atom?lang=en")
        assert page.locator("#feed-banner .feed-url code").inner_text() == (
            f"{server}/all.atom?lang=en"
        )
        assert not page.get_by_role("button", name="Copy URL").is_visible()
    finally:
        context.close()


# -- contrast -------------------------------------------------------------------------------

# The contrast ratio (WCAG 2) of every visible text against the first opaque background
# behind it; the pages use plain colours, no images behind text.
CONTRAST = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return parse(getComputedStyle(document.documentElement).backgroundColor).slice(0, 3);
  };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el.checkVisibility()) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1) continue;
    const fg = lum(parse(getComputedStyle(el).color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    found.push([Math.round(ratio * 100) / 100, el.tagName, el.textContent.trim().slice(0, 40)]);
  }
  return found;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_is_sufficient(page: "sync_api.Page", scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    for path in ("/", "/?q=wash", "/agencies/mfa", "/all.atom?limit=3"):
        page.goto(path)
        measured = page.evaluate(CONTRAST)
        assert len(measured) > 20, path
        low = [m for m in measured if m[0] < 4.5]
        assert low == [], (path, scheme)
