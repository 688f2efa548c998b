"""One release, several languages (issue 16, SPEC section 3): an English and a Russian
scraper both write releases 900001-900004; each language is a version of its own, with its
own Atom id, linking the other (hreflang), and a feed without ?lang= shows each release once.
"""

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import feedparser
import pytest
from flask import Flask

from feeds.dumps.dumpwrite import DumpItem, write_dump
from feeds.dumps.sources import Source
from feeds.following.follow import Follower
from feeds.ingest import Ingester, SourceReport
from feeds.settings import Settings
from feeds.store import Store
from feeds.web.app import create_app
from tests.fake_portal import FakePortal, Reply, news_json

DAY = date(2026, 1, 10)
IDS = ("900001", "900002", "900003", "900004")
ENGLISH = {
    "900001": ("Minister met the Ambassador of France", "The parties discussed trade."),
    "900002": ("New school opened in Astana", "The school has places for 1,200 pupils."),
    "900003": ("Tax declarations are due by March", "Taxpayers are reminded of the deadline."),
    "900004": ("Embassy hosted a concert of Kazakh music", "Musicians played the dombra."),
}
RUSSIAN = {
    "900001": ("Министр встретился с послом Франции", "Стороны обсудили вопросы торговли."),
    "900002": ("В Астане открылась новая школа", "Школа рассчитана на 1200 учеников."),
    "900003": ("Налоговые декларации сдаются до марта", "Налогоплательщикам напомнили о сроке."),
    "900004": ("Посольство провело концерт казахской музыки", "Музыканты исполнили кюи на домбре."),
}
NEW_ENGLISH = ("900005", "Deputy minister visited a farm", "The harvest was discussed there.")
NEW_RUSSIAN = ("900006", "Аким провёл приём граждан", "Жители обсудили ремонт дорог.")


def link(news_id: str, lang: str) -> str:
    return f"https://www.gov.kz/memleket/entities/mfa/press/news/details/{news_id}?lang={lang}"


def dump(texts: dict[str, tuple[str, str]], lang: str, new: tuple[str, str, str] | None) -> str:
    """A dump as a scraper writes it: its interface language in every link's ?lang=."""
    items = [
        DumpItem(title, DAY, body, link(news_id, lang)) for news_id, (title, body) in texts.items()
    ]
    if new:
        news_id, title, body = new
        items.insert(0, DumpItem(title, DAY + timedelta(days=1), body, link(news_id, lang)))
    return write_dump("News", items)


def write_dumps(folder: Path, next_day: bool = False) -> tuple[Path, Path]:
    english, russian = folder / "english.txt", folder / "russian.txt"
    # The English scraper's interface is Kazakh: its links say ?lang=kk.
    english.write_text(dump(ENGLISH, "kk", NEW_ENGLISH if next_day else None), encoding="utf-8")
    russian.write_text(dump(RUSSIAN, "ru", NEW_RUSSIAN if next_day else None), encoding="utf-8")
    return english, russian


def ingest(store: Store, settings: Settings, paths: list[Path]) -> list[SourceReport]:
    ingester = Ingester(store, settings)
    return [ingester.ingest(Source(str(path))) for path in paths]


def counts(reports: list[SourceReport]) -> list[tuple[int, int, int]]:
    return [(r.counts.new, r.counts.updated, r.counts.unchanged) for r in reports]


def feed(app: Flask, path: str) -> feedparser.FeedParserDict:
    response = app.test_client().get(path)
    assert response.status_code == 200, path
    return feedparser.parse(response.data)


def release_of(entry: feedparser.FeedParserDict) -> str:
    return entry.link.split("/details/")[1].split("?")[0]


def alternates(entry: feedparser.FeedParserDict) -> dict[str, str]:
    return {
        link.hreflang: link.href
        for link in entry.links
        if link.rel == "alternate" and link.get("hreflang")
    }


@pytest.fixture(params=["english-first", "russian-first"])
def order(request: pytest.FixtureRequest) -> str:
    return request.param


def in_order(paths: tuple[Path, Path], order: str) -> list[Path]:
    return list(paths) if order == "english-first" else list(reversed(paths))


def test_both_versions_are_kept_and_link_each_other(
    settings: Settings, tmp_path: Path, order: str
) -> None:
    app = create_app(settings)
    store = app.extensions["feeds"].store
    reports = ingest(store, settings, in_order(write_dumps(tmp_path), order))
    assert counts(reports) == [(4, 0, 0), (4, 0, 0)]
    english = feed(app, "/all.atom?lang=en").entries
    russian = feed(app, "/all.atom?lang=ru").entries
    assert [(release_of(e), e.title) for e in english] == [(i, ENGLISH[i][0]) for i in IDS]
    assert [(release_of(e), e.title) for e in russian] == [(i, RUSSIAN[i][0]) for i in IDS]
    for entry in english:  # its own page in English, and the Russian version's page
        assert alternates(entry) == {
            "en": link(release_of(entry), "en"),
            "ru": link(release_of(entry), "ru"),
        }
        assert entry.title_detail.language == "en"
    for entry in russian:
        assert alternates(entry) == {
            "ru": link(release_of(entry), "ru"),
            "en": link(release_of(entry), "en"),
        }
    assert {e.id for e in english}.isdisjoint(e.id for e in russian)
    # Without ?lang=, each release once: its English version (LANGUAGES = en, ru, kk).
    every = feed(app, "/all.atom").entries
    assert [(release_of(e), e.id) for e in every] == [(release_of(e), e.id) for e in english]
    mfa = feed(app, "/agencies/mfa.atom").entries
    assert [e.id for e in mfa] == [e.id for e in english]
    assert store.count_items() == 4


def test_atom_ids_do_not_depend_on_the_ingest_order(settings: Settings, tmp_path: Path) -> None:
    paths = write_dumps(tmp_path)
    ids = []
    for number, order in enumerate(["english-first", "russian-first"]):
        url = f"sqlite:///{tmp_path / f'store-{number}.sqlite3'}"
        app = create_app(replace(settings, database_url=url))
        ingest(app.extensions["feeds"].store, settings, in_order(paths, order))
        ids.append(
            {
                (release_of(e), lang): e.id
                for lang in ("en", "ru")
                for e in feed(app, f"/all.atom?lang={lang}").entries
            }
        )
    assert len(ids[0]) == 8 and ids[0] == ids[1]


def test_unchanged_dumps_change_nothing_and_the_next_day_adds_one_release_each(
    settings: Settings, tmp_path: Path, order: str
) -> None:
    app = create_app(settings)
    store = app.extensions["feeds"].store
    paths = in_order(write_dumps(tmp_path), order)
    ingest(store, settings, paths)
    client = app.test_client()
    etags = {p: client.get(p).headers["ETag"] for p in ("/all.atom", "/all.atom?lang=ru")}
    before = {(e.id, e.updated) for e in feed(app, "/all.atom?lang=ru").entries}
    rows = store.item_rows()
    again = ingest(store, settings, list(reversed(paths)))  # and in the other order
    assert counts(again) == [(0, 0, 4), (0, 0, 4)]
    assert store.item_rows() == rows
    assert {p: client.get(p).headers["ETag"] for p in etags} == etags
    # The next day each scraper has one new release on top.
    grown = write_dumps(tmp_path, next_day=True)
    reports = ingest(store, settings, in_order(grown, order))
    assert counts(reports) == [(1, 0, 4), (1, 0, 4)]
    russian = feed(app, "/all.atom?lang=ru").entries
    assert [release_of(e) for e in russian] == ["900006", *IDS]
    assert {(e.id, e.updated) for e in russian[1:]} == before  # not "edited"
    every = feed(app, "/all.atom").entries
    # The Russian-only release is shown in Russian, the English-only one in English; of the
    # two, the one stored last comes first (same day, same place in their dumps).
    new = [("900005", NEW_ENGLISH[1]), ("900006", NEW_RUSSIAN[1])]
    if order == "english-first":
        new.reverse()
    assert [(release_of(e), e.title) for e in every] == [
        *new,
        *((i, ENGLISH[i][0]) for i in IDS),
    ]
    assert alternates(every[0]) == {"ru" if order == "english-first" else "en": every[0].link}


def test_the_languages_setting_chooses_the_shown_version(
    settings: Settings, tmp_path: Path
) -> None:
    paths = list(write_dumps(tmp_path))
    app = create_app(settings)
    Ingester(app.extensions["feeds"].store, settings).run([str(p) for p in paths])
    assert [e.title for e in feed(app, "/all.atom").entries] == [ENGLISH[i][0] for i in IDS]
    # The operator prefers Russian and restarts: the next run chooses again, once.
    russian_first = replace(settings, languages=("ru", "en", "kk"))
    store = app.extensions["feeds"].store
    assert store.choose_versions(russian_first.languages) == 8
    assert store.choose_versions(russian_first.languages) == 0
    app = create_app(russian_first)
    assert [e.title for e in feed(app, "/all.atom").entries] == [RUSSIAN[i][0] for i in IDS]
    topic = feed(app, "/topics/news.atom").entries
    assert [e.title for e in topic] == [RUSSIAN[i][0] for i in IDS]
    reports = ingest(store, russian_first, paths)
    assert counts(reports) == [(0, 0, 4), (0, 0, 4)]


def test_item_pages_say_also_in(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings)
    ingest(app.extensions["feeds"].store, settings, list(write_dumps(tmp_path)))
    english = feed(app, "/all.atom?lang=en").entries[0]
    russian = feed(app, "/all.atom?lang=ru").entries[0]
    english_uid, russian_uid = (e.id.removeprefix("urn:uuid:") for e in (english, russian))
    page = app.test_client().get(f"/items/{english_uid}").get_data(as_text=True)
    assert (
        f'<p class="also-in" lang="en">Also in: <a href="/items/{russian_uid}" hreflang="ru"'
        ' lang="ru">Русский</a></p>'
    ) in page
    listing = app.test_client().get("/agencies/mfa").get_data(as_text=True)
    assert listing.count('<p class="also-in" lang="en">Also in: ') == 4
    assert f'<a href="/items/{russian_uid}" hreflang="ru" lang="ru">Русский</a>' in listing


def test_feeds_with_hreflang_links_are_valid(settings: Settings, tmp_path: Path, w3c) -> None:
    app = create_app(settings)
    ingest(app.extensions["feeds"].store, settings, list(write_dumps(tmp_path)))
    for path in ("/all.atom", "/all.atom?lang=ru", "/all.rss?lang=en"):
        response = app.test_client().get(path)
        messages = w3c.validate(
            response.data, f"http://localhost{path}", content_type=response.content_type
        )
        # Not "DuplicateUpdated": releases of one day share its start as their time.
        found = [str(m) for m in messages if m.level in ("error", "warning")]
        assert [m for m in found if "DuplicateUpdated" not in m] == [], path


def test_following_asks_each_version_in_its_language_and_times_the_release(
    settings: Settings, tmp_path: Path
) -> None:
    """The portal has only the English version (404 in Russian): the English version takes
    the API's text, time and image; the Russian one keeps its text and takes the release's
    exact time, and the image is the release's."""
    app = create_app(settings)
    store = app.extensions["feeds"].store
    ingest(store, settings, list(write_dumps(tmp_path)))

    def english_only(news_id: str, asked: int, lang: str) -> Reply:
        if lang != "en":
            return Reply(404, b'{"error": "not found"}')
        return news_json(
            news_id,
            title=f"API title {news_id}",
            created_date="2026-01-10T04:30:00.000+00:00",
            heropic=f"/uploads/{news_id}.png",
        )

    with FakePortal(english_only) as portal:
        following = replace(settings, govkz_base_url=portal.url, follow_rate=100.0)
        Follower(store, following, Ingester(store, following).rules).run(limit=100)
    assert sorted((r.news_id, r.lang) for r in portal.requests) == sorted(
        (news_id, lang) for news_id in IDS for lang in ("en", "ru")
    )
    app = create_app(settings)
    english = feed(app, "/all.atom?lang=en").entries
    russian = feed(app, "/all.atom?lang=ru").entries
    assert [e.title for e in english] == [f"API title {i}" for i in IDS]
    assert [e.title for e in russian] == [RUSSIAN[i][0] for i in IDS]
    for entry in [*english, *russian]:
        assert entry.published == "2026-01-10T09:30:00+05:00"
        images = [link.href for link in entry.links if link.rel == "enclosure"]
        assert images == [f"https://www.gov.kz/uploads/{release_of(entry)}.png"]


def test_one_dump_with_a_release_in_two_languages_keeps_both(
    settings: Settings, tmp_path: Path
) -> None:
    both = tmp_path / "both.txt"
    items = [
        DumpItem(*ENGLISH["900001"][:1], DAY, ENGLISH["900001"][1], link("900001", "en")),
        DumpItem(*RUSSIAN["900001"][:1], DAY, RUSSIAN["900001"][1], link("900001", "ru")),
        # The same release in the same language again: a duplicate, reported with its line.
        DumpItem("Minister met the Ambassador", DAY, "The parties met.", link("900001", "kk")),
    ]
    both.write_text(write_dump("News", items), encoding="utf-8")
    app = create_app(settings)
    (report,) = ingest(app.extensions["feeds"].store, settings, [both])
    assert counts([report]) == [(2, 0, 0)]
    assert [(p.line, p.message) for p in report.problems] == [
        (6, "same item as line 2; kept the first")
    ]
    assert [e.title for e in feed(app, "/all.atom").entries] == [ENGLISH["900001"][0]]
    assert [e.title for e in feed(app, "/all.atom?lang=ru").entries] == [RUSSIAN["900001"][0]]
