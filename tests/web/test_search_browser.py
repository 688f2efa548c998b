"""The search page in a real headless Chromium (issue 17): the header's box leads to the
results, the filters narrow them, the subscribe box gives this search's feed, which parses.
Screenshot: var/screenshots/search.png. Skipped as tests/web/test_browser.py is."""

import feedparser

from tests.web.test_browser import browser, fetch, page, screenshot, server  # noqa: F401
from tests.web.test_search_web import DECLARATION_TITLES


def test_search_page_results_filters_and_subscribe_box(page, server: str) -> None:  # noqa: F811
    page.goto("/agencies/mfa")
    page.fill("#header-q", "declarations")
    page.press("#header-q", "Enter")
    page.wait_for_url("**/search?q=declarations")
    assert page.locator(".results h3 a").all_inner_texts() == DECLARATION_TITLES
    assert page.locator(".results mark").first.inner_text() == "declaration"
    screenshot(page, "search")

    page.select_option("#search-agency", "kgd-kostanay")
    page.click("form.search-page button[type=submit]")
    page.wait_for_url("**/search?q=declarations&agency=kgd-kostanay&topic=&lang=&since=&until=")
    assert page.locator(".results h3 a").all_inner_texts() == DECLARATION_TITLES[1:]
    assert page.locator("#search-agency").input_value() == "kgd-kostanay"

    copy = page.locator("section[aria-labelledby=subscribe-heading] button[data-copy]")
    url = copy.get_attribute("data-copy")
    assert url == f"{server}/search.atom?q=declarations&agency=kgd-kostanay"
    assert (
        page.locator("link[rel=alternate][type='application/atom+xml']").get_attribute("href")
        == url
    )
    parsed = feedparser.parse(fetch(url)[1])
    assert [entry.title for entry in parsed.entries] == DECLARATION_TITLES[1:]
    screenshot(page, "search-filtered", full_page=False)
