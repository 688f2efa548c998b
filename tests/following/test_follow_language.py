"""Following keeps English English (issue 16, its first part): the sample links all say
`?lang=kk` (the scraper's interface language), but 31 of their 33 items are English text and
2 Russian. The API is asked in the language of the item's text, and an answer in another
language never replaces the item's text; its exact time and image still apply.

The stand-in portal answers in the language it is asked for, as gov.kz does.
"""

from dataclasses import replace

import feedparser
import pytest

from feeds.following.follow import Follower
from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.store import Store
from feeds.web.app import create_app
from tests.fake_portal import FakePortal, Reply, news_json
from tests.following.test_follow_faults import DUE

RUSSIAN = {"1138969", "1129386"}  # the two sample items with a gov.kz news link in Russian
SOURCE_ONLY = "1139110"  # English; its dump body is only its `Source :` line
TEXTS = {
    "en": ("English title {}", "<p>The English text of release {}.</p>"),
    "ru": ("Русский заголовок {}", "<p>Русский текст релиза {}.</p>"),
    "kk": ("Қазақша тақырып {}", "<p>Шығарылымның қазақша мәтіні {}.</p>"),
}
CREATED = "2026-01-09T10:15:00.000+00:00"  # 15:15 in Kazakhstan


def in_language(lang: str, news_id: str) -> Reply:
    title, body = TEXTS[lang]
    return news_json(news_id, title=title.format(news_id), body=body.format(news_id))


@pytest.fixture
def store(sample_store: Store) -> Store:
    return sample_store


def follow_all(store: Store, settings: Settings, portal: FakePortal) -> None:
    settings = replace(settings, govkz_base_url=portal.url, follow_rate=100.0)
    report = Follower(store, settings, Ingester(store, settings).rules).run(limit=1000)
    assert (report.attempted, report.changed) == (33, 33)


def entries_by_id(settings: Settings) -> dict[str, feedparser.FeedParserDict]:
    feed = create_app(settings).test_client().get("/all.atom?limit=500").data
    entries = feedparser.parse(feed).entries
    return {e.link.split("/details/")[1].split("?")[0]: e for e in entries if "/details/" in e.link}


def test_the_api_is_asked_in_the_language_of_the_text(store: Store, settings: Settings) -> None:
    with FakePortal(lambda news_id, asked, lang: in_language(lang or "kk", news_id)) as portal:
        follow_all(store, settings, portal)
    asked = {r.news_id: r.lang for r in portal.requests}
    assert asked == {news_id: "ru" if news_id in RUSSIAN else "en" for news_id in DUE}
    entries = entries_by_id(settings)
    for news_id in DUE:
        lang = "ru" if news_id in RUSSIAN else "en"
        assert entries[news_id].title == TEXTS[lang][0].format(news_id)
        assert entries[news_id].content[0].value == TEXTS[lang][1].format(news_id)
    assert entries[SOURCE_ONLY].content[0].value == "<p>The English text of release 1139110.</p>"


def test_an_answer_in_another_language_keeps_the_text(store: Store, settings: Settings) -> None:
    """A portal that has only the Kazakh version (or ignores Accept-Language): the items keep
    their own text, and take the exact time and the image."""
    before = entries_by_id(settings)

    def kazakh_only(news_id: str, asked: int, lang: str) -> Reply:
        title, body = TEXTS["kk"]
        return news_json(
            news_id,
            title=title.format(news_id),
            body=body.format(news_id),
            created_date=CREATED,
            heropic=f"/uploads/{news_id}.jpg",
        )

    with FakePortal(kazakh_only) as portal:
        follow_all(store, settings, portal)
    after = entries_by_id(settings)
    for news_id in DUE:
        assert after[news_id].title == before[news_id].title
        assert after[news_id].content[0].value == before[news_id].content[0].value
        assert after[news_id].published == "2026-01-09T15:15:00+05:00"
        enclosures = [link.href for link in after[news_id].links if link.rel == "enclosure"]
        assert enclosures == [f"https://www.gov.kz/uploads/{news_id}.jpg"]
