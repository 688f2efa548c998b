"""?since= and ?until= on every feed (inclusive days of publication in Asia/Almaty, UTC+5) and
repeatable ?agency= / ?topic= on /search.* (any of one, all of both), read back from the served
feeds and checked against the unfiltered feeds they narrow; on SQLite and PostgreSQL."""

from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feeds.settings import Settings
from tests.conftest import app_with_one_followed
from tests.fake_portal import news_json

LATE = "1139165"  # kvv's release of 2026-01-10 in the dump; the portal dates it 23:30 the 9th
LATE_TIME = "2026-01-09T18:30:00.000+00:00"  # 23:30 in Almaty


@pytest.fixture
def app(settings: Settings) -> Flask:
    """The sample dumps, one release followed to an exact time late on the 9th."""
    return app_with_one_followed(settings, LATE, news_json(LATE, created_date=LATE_TIME))


def entries(client: FlaskClient, path: str) -> list[feedparser.FeedParserDict]:
    response = client.get(path)
    assert response.status_code == 200, (path, response.text)
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed.entries


def day_of(published: str) -> date:
    """The day in Almaty of an Atom (RFC 3339) or RSS (RFC 822) date, as the feed wrote it."""
    try:
        moment = datetime.fromisoformat(published)
    except ValueError:
        moment = parsedate_to_datetime(published)
    assert moment.utcoffset() == timedelta(hours=5), published
    return moment.date()


def days(client: FlaskClient, path: str) -> list[tuple[str, date]]:
    """(id, day of publication in Almaty) of every entry of a feed, in feed order."""
    return [
        (e.id, day_of(e.published))
        for e in entries(client, path + ("&" if "?" in path else "?") + "limit=500")
    ]


def test_a_release_at_23_30_in_almaty_is_of_that_day(client: FlaskClient) -> None:
    (late,) = [e for e in entries(client, "/agencies/kvv.atom")]
    assert late.published == "2026-01-09T23:30:00+05:00"  # 18:30 UTC, the 9th in Almaty
    on_9th = [e.id for e in entries(client, "/all.atom?since=2026-01-09&until=2026-01-09")]
    assert late.id in on_9th
    assert late.id in [e.id for e in entries(client, "/agencies/kvv.atom?until=2026-01-09")]
    assert entries(client, "/agencies/kvv.atom?since=2026-01-10") == []
    assert entries(client, "/agencies/kvv.rss?until=2026-01-08") == []


@pytest.mark.parametrize(
    "query",
    [
        "since=2026-01-10",
        "until=2026-01-09",
        "since=2025-12-20&until=2026-01-09",
        "since=2025-12-20&until=2025-12-20",
        "since=2025-12-21&until=2026-01-08",  # days with no release between those with some
        "since=2020-01-01",
        "until=2025-12-18",
        "since=0001-01-01&until=9999-12-31",  # the calendar's ends
    ],
)
def test_since_and_until_keep_exactly_the_days_between_both_included(
    client: FlaskClient, query: str
) -> None:
    params = dict(part.split("=") for part in query.split("&"))
    low = date.fromisoformat(params.get("since", "1970-01-01"))
    high = date.fromisoformat(params.get("until", "2999-01-01"))
    for feed in ("/all.atom", "/agencies/mfa.atom", "/topics/world.rss"):
        whole = days(client, feed)
        expected = [(id_, day) for id_, day in whole if low <= day <= high]
        assert days(client, f"{feed}?{query}") == expected, feed
        if query == "since=2026-01-10" and feed == "/all.atom":  # the issue's own example
            assert 0 < len(expected) < len(whole)


def test_the_unfiltered_feed_spans_the_days_the_filters_are_tried_on(client: FlaskClient) -> None:
    """The oracle above is not vacuous: the samples hold releases on each side of each bound."""
    found = {day for _, day in days(client, "/all.atom")}
    assert found == {date(2025, 12, 19), date(2025, 12, 20), date(2026, 1, 9), date(2026, 1, 10)}


def ids(client: FlaskClient, path: str) -> set[str]:
    path += ("&" if "?" in path else "?") + "limit=500"
    if ".json" in path:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        return {item["id"] for item in response.get_json()["items"]}
    return {e.id for e in entries(client, path)}


def test_several_agencies_are_any_of_them(client: FlaskClient) -> None:
    mfa, kgd_vko = ids(client, "/agencies/mfa.atom"), ids(client, "/agencies/kgd-vko.atom")
    assert mfa and kgd_vko and not mfa & kgd_vko
    assert ids(client, "/search.atom?agency=mfa&agency=kgd-vko") == mfa | kgd_vko
    # The same agency twice, or in another order, is the same search.
    assert ids(client, "/search.atom?agency=kgd-vko&agency=mfa&agency=mfa") == mfa | kgd_vko


def test_several_topics_are_any_of_them_and_all_of_both_parameters(client: FlaskClient) -> None:
    news, world = ids(client, "/topics/news.atom"), ids(client, "/topics/world.atom")
    both = ids(client, "/search.atom?topic=news&topic=world")
    assert both == news | world and news - world and world - news
    agencies = ids(client, "/search.atom?agency=mfa&agency=kgd-kostanay")
    narrowed = ids(client, "/search.json?agency=mfa&agency=kgd-kostanay&topic=news&topic=world")
    assert narrowed == agencies & (news | world)
    only_news = ids(client, "/search.atom?agency=mfa&agency=kgd-kostanay&topic=news")
    assert only_news == agencies & news and only_news != narrowed


def test_filters_combine_with_q_lang_and_paging(client: FlaskClient) -> None:
    path = "/search.atom?agency=mfa&agency=kgd-kostanay&since=2026-01-09&lang=en"
    expected = [
        (id_, day)
        for id_, day in days(client, "/search.atom?agency=mfa&agency=kgd-kostanay&lang=en")
        if day >= date(2026, 1, 9)
    ]
    assert len(expected) >= 3
    walked, url = [], f"{path}&limit=2"
    while url:
        response = client.get(url.removeprefix("http://localhost"))
        assert response.status_code == 200, response.text
        feed = feedparser.parse(response.data)
        walked += [(e.id, day_of(e.published)) for e in feed.entries]
        url = next((link.href for link in feed.feed.links if link.rel == "next"), None)
        if url:
            assert "since=2026-01-09" in url and url.count("agency=") == 2
    assert walked == expected
    searched = ids(client, "/all.atom?q=kazakhstan&until=2026-01-09")
    assert searched and searched <= ids(client, "/all.atom?q=kazakhstan")
    assert searched <= ids(client, "/all.atom?until=2026-01-09")


MALFORMED = [
    "yesterday",
    "2026-1-9",
    "20260109",  # ISO 8601's basic form, which date.fromisoformat would take
    "2026-02-30",
    "2026-01-09T00:00",
    "09.01.2026",
    "٢٠٢٦-٠١-٠٩",  # Arabic-Indic digits, which str.isdigit would take
]


def test_a_malformed_day_is_a_400_naming_the_parameter_and_its_form(client: FlaskClient) -> None:
    for path in ("/all.atom", "/agencies/mfa.rss", "/search.json", "/topics/news"):
        for name in ("since", "until"):
            for value in MALFORMED:
                response = client.get(path, query_string={name: value})
                assert (response.status_code, response.text) == (
                    400,
                    f"bad {name}: expected YYYY-MM-DD, a day of the calendar, not {value!r}\n",
                ), (path, name, value)


def test_the_search_page_says_what_was_wrong_with_a_day(client: FlaskClient) -> None:
    page = client.get("/search?q=tax&since=yesterday")
    assert page.status_code == 400
    assert "bad since: expected YYYY-MM-DD, a day of the calendar, not &#39;yesterday&#39;" in (
        page.text
    )


def test_until_before_since_is_a_400(client: FlaskClient) -> None:
    response = client.get("/all.atom?since=2026-01-10&until=2026-01-09")
    assert response.status_code == 400
    assert response.text == "bad until: 2026-01-09 is before since (2026-01-10)\n"


def test_an_empty_day_is_no_filter(client: FlaskClient) -> None:
    """What the search page's form sends for a date field left blank."""
    assert ids(client, "/search.atom?q=kazakhstan&since=&until=") == ids(
        client, "/search.atom?q=kazakhstan"
    )


def test_a_filtered_feed_keeps_its_validators(client: FlaskClient) -> None:
    path = "/search.rss?agency=mfa&agency=kgd-vko&since=2026-01-10"
    first = client.get(path)
    assert first.status_code == 200
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    modified = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert modified.status_code == 304
    assert (
        first.headers["ETag"] != client.get("/search.rss?agency=mfa&agency=kgd-vko").headers["ETag"]
    )
    assert again.headers["Link"] == (
        '<http://localhost/search.rss?agency=kgd-vko&agency=mfa&since=2026-01-10>; rel="self"'
    )


def test_filtered_pages_are_bounded_variants(app: Flask, client: FlaskClient) -> None:
    """Rendered on demand and kept in this process's bounded cache, never in the store."""
    service = app.extensions["feeds"]
    stored = service.store.rendered_keys()
    before = len(service.variants)
    for day in ("2026-01-09", "2026-01-10"):
        client.get(f"/all.atom?since={day}")
        client.get(f"/all.atom?since={day}")  # the second from the cache
    assert len(service.variants) == before + 2
    assert service.store.rendered_keys() == stored


def test_titles_say_the_days(client: FlaskClient) -> None:
    def title(path: str) -> str:
        return feedparser.parse(client.get(path).data).feed.title

    assert title("/all.atom?since=2026-01-10") == "gov.kz news (from 2026-01-10)"
    assert title("/agencies/mfa.atom?since=2026-01-09&until=2026-01-10") == (
        "Ministry of Foreign Affairs of the Republic of Kazakhstan (from 2026-01-09 to "
        "2026-01-10) – gov.kz news"
    )
    assert title("/search.atom?agency=mfa&agency=kgd-vko&until=2026-01-09&since=2026-01-09") == (
        "Department of State Revenue for East Kazakhstan Region or Ministry of Foreign Affairs "
        "of the Republic of Kazakhstan (on 2026-01-09) – gov.kz news"
    )


def test_the_search_page_has_the_date_fields(client: FlaskClient) -> None:
    page = client.get("/search?q=kazakhstan&since=2026-01-09&agency=mfa&agency=kgd-vko")
    assert page.status_code == 200
    assert '<input type="date" id="search-since" name="since" value="2026-01-09">' in page.text
    assert '<input type="date" id="search-until" name="until" value="">' in page.text
    assert '<select id="search-agency" name="agency" multiple>' in page.text
    assert "/search.atom?q=kazakhstan&amp;agency=kgd-vko&amp;agency=mfa&amp;since=2026-01-09" in (
        page.text
    )
