"""Hostile dumps (issue 9): a generated corpus of bad dumps (tests/hostile_corpus.py) is
ingested without a crash, every well-formed item in it is stored exactly once, and every
feed stays valid. Property-based tests of the parser and the renderer over any text."""

import html
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from feeds.dumps.dumpparse import parse_dump
from feeds.dumps.dumpwrite import DumpItem, write_dump, write_item
from feeds.dumps.records import KAZAKHSTAN, atom_id, item_uid, release_key, to_records
from feeds.ingest import Ingester, parse_bytes
from feeds.publish.feedmodel import (
    Category,
    Entry,
    FeedMeta,
    FeedRef,
    PageLinks,
    content_html,
    summary_text,
)
from feeds.publish.render import render_atom, render_json, render_rss
from feeds.settings import Settings
from feeds.store import Store
from feeds.text.textclean import collapse_spaces, remove_unsafe_chars
from feeds.web.app import create_app
from tests.dumps.test_properties import dump_can_say, dump_items
from tests.hostile_corpus import HostileDump, corpus
from tests.reliability import ATOM, check_every_feed, load_w3c, w3c_errors, walk

CORPUS = list(corpus())


@pytest.fixture(scope="module")
def w3c():
    """The W3C feed validator when available, else None (its checks are then skipped)."""
    return load_w3c()


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[HostileDump, Path]]:
    folder = tmp_path_factory.mktemp("hostile")
    files = []
    for case in CORPUS:
        path = folder / f"{case.name}.txt"
        path.write_bytes(case.data)
        files.append((case, path))
    return files


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_each_hostile_dump_parses_to_exactly_its_items(case: HostileDump) -> None:
    parsed = parse_bytes(case.data, case.name)
    assert len(parsed.records) == case.expected
    assert {r.govkz_id for r in parsed.records if r.govkz_id} == case.ids
    cut = [p.message for p in parsed.problems if "characters cut to" in p.message]
    if case.name in ("huge-lines", "long-section"):  # bounded, and never silently
        assert cut, case.name
    for record in parsed.records:  # what the store and every feed will be given
        etree.fromstring(f"<t>{html.escape(record.title + record.body)}</t>".encode())
        assert len(record.key) <= 512 and (record.agency is None or len(record.agency) <= 128)


def test_hostile_corpus_ingests_every_item_and_every_feed_stays_valid(
    settings: Settings, corpus_files: list[tuple[HostileDump, Path]], w3c
) -> None:
    app = create_app(settings)
    store: Store = app.extensions["feeds"].store
    reports = Ingester(store, settings).run([str(path) for _, path in corpus_files])
    expected = {str(path): case for case, path in corpus_files}
    for report in reports:
        case = expected[report.source]
        assert report.error is None, report.error
        assert (report.counts.found, report.counts.new) == (case.expected, case.expected), case.name
    total = sum(case.expected for case in CORPUS)
    assert store.count_items() == total
    stored_ids = {row["govkz_id"] for row in store.item_rows() if row["govkz_id"]}
    assert stored_ids == set().union(*(case.ids for case in CORPUS))

    client = app.test_client()
    assert check_every_feed(client) >= 3 * 10
    atom_pages = list(walk(client, "/all.atom?limit=500"))
    ids = [
        e.findtext(f"{ATOM}id")
        for page in atom_pages
        for e in etree.fromstring(page).iter(f"{ATOM}entry")
    ]
    assert len(ids) == len(set(ids)) == total  # paging reaches every item once
    if w3c is not None:  # one subprocess a page: two at once
        pages = [("/all.atom", page) for page in atom_pages]
        pages += [("/all.rss", page) for page in walk(client, "/all.rss?limit=500")]
        with ThreadPoolExecutor(2) as pool:
            found = pool.map(
                lambda p: (p[0], w3c_errors(w3c, p[1], f"http://localhost{p[0]}")), pages
            )
            assert [(path, errors) for path, errors in found if errors] == []

    again = Ingester(store, settings).run([str(path) for _, path in corpus_files])
    assert all(r.counts.new == r.counts.updated == 0 for r in again)  # nothing flip-flops


# -- properties -------------------------------------------------------------------------------

# Lines that can never be a title line or a citation: no digit (no date), no colon.
NOISE = st.text(
    st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters=":\r\n"), max_size=40
)


@given(
    st.lists(dump_items(), min_size=1, max_size=6),
    st.lists(st.lists(NOISE, max_size=3), min_size=7, max_size=7),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_noise_between_items_loses_no_item(items: list[DumpItem], noise: list[list[str]]) -> None:
    """Lines of junk after any item change no item's identity, title, date or link."""
    assume(dump_can_say(items))
    clean = parse_dump(write_dump("News", items), "clean.txt")
    noisy_text = "News\n" + "\n".join(
        "\n".join([write_item(item), *noise[index]]) for index, item in enumerate(items)
    )
    noisy = parse_dump(noisy_text, "noisy.txt")

    def identities(parsed):  # type: ignore[no-untyped-def]
        # The parsed items, before records: noise may join an item's text and so change the
        # language its version is detected in, and with it which items are one version (the
        # later one then reported as a repeat), which is the text's doing, not a lost item.
        return [(item.title, item.day, item.link, release_key(item)) for item in parsed.items]

    assert identities(noisy) == identities(clean)
    # And every release is still among the records (a repeat drops a version, not a release).
    noisy_records, _ = to_records(noisy.items, "noisy.txt")
    clean_records, _ = to_records(clean.items, "clean.txt")
    assert {r.release for r in noisy_records} == {r.release for r in clean_records}


def _cleaned(text: str) -> str:
    return collapse_spaces(remove_unsafe_chars(text)[0])


TEXT = st.text(max_size=60).map(_cleaned)
BODY = st.lists(st.text(max_size=80), max_size=4).map(
    lambda lines: "\n".join(filter(None, map(_cleaned, lines)))
)
MOMENT = st.datetimes(
    min_value=datetime(1991, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
LINKS = PageLinks(
    self="http://localhost/all.atom",
    alternate="http://localhost/",
    first="http://localhost/all.atom",
    icon="http://localhost/static/icon.png",
)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    key = draw(st.text(min_size=1, max_size=30))
    body = draw(BODY)
    link = draw(
        st.sampled_from(
            [
                "https://www.gov.kz/memleket/entities/mfa/press/news/details/1?lang=en",
                f"http://localhost/items/{item_uid(key)}",
            ]
        )
    )
    moment = draw(MOMENT)
    return Entry(
        id=atom_id(key),
        uid=item_uid(key),
        title=draw(TEXT.filter(bool)),
        link=link,
        author=draw(TEXT.filter(bool)),
        categories=tuple(
            Category(slug, label)
            for slug, label in draw(
                st.lists(
                    st.tuples(st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True), TEXT.filter(bool)),
                    max_size=3,
                    unique_by=lambda c: c[0],
                )
            )
        ),
        content_html=content_html(body, link),
        summary=summary_text(body),
        published=moment.astimezone(KAZAKHSTAN),
        updated=moment.astimezone(KAZAKHSTAN),
        lang=draw(st.sampled_from(["en", "ru", "kk"])),
        other_sources=tuple(draw(st.lists(st.just("https://top-news.kz/a/"), max_size=1))),
    )


def as_feedparser_reads(text: str) -> str:
    """feedparser "repairs" any text that is valid UTF-8 once encoded as Latin-1 ("Â¡" is
    read as "¡"): its guess, not our feed's bytes, which lxml reads back exactly."""
    try:
        return text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _check_rendered(meta: FeedMeta, items: list[Entry]) -> None:
    atom = render_atom(meta, items, LINKS)
    root = etree.fromstring(atom)
    assert root.findtext(f"{ATOM}title") == meta.title
    parsed = feedparser.parse(atom)
    assert not parsed.bozo, parsed.get("bozo_exception")
    for item, element, entry in zip(items, root.iter(f"{ATOM}entry"), parsed.entries, strict=True):
        assert element.findtext(f"{ATOM}title") == item.title
        assert element.findtext(f"{ATOM}summary") == (item.summary or None)
        assert element.findtext(f"{ATOM}author/{ATOM}name") == item.author
        assert [c.get("label") for c in element.iter(f"{ATOM}category")] == [
            c.label for c in item.categories
        ]
        assert entry.title == as_feedparser_reads(item.title)  # as a feed reader reads it
        assert entry.id == item.id
    rss = render_rss(meta, items, LINKS)
    assert not feedparser.parse(rss).bozo
    channel = etree.fromstring(rss).find("channel")
    assert html.unescape(channel.findtext("description")) == meta.subtitle
    for item, element in zip(items, channel.iter("item"), strict=True):
        assert element.findtext("title") == item.title
        description = element.findtext("description")
        if item.summary:  # readers take it as HTML: the summary goes there escaped
            assert "<" not in description and html.unescape(description) == item.summary
        else:  # feedgen falls back to the content, sanitized HTML
            assert description == (item.content_html or None)
    feed = json.loads(render_json(meta, items, LINKS))
    assert [(i["title"], i["summary"], i["content_html"]) for i in feed["items"]] == [
        (item.title, item.summary, item.content_html or "<p></p>") for item in items
    ]


@given(TEXT.filter(bool), TEXT.filter(bool), st.lists(entries(), max_size=4))
@settings(max_examples=200, deadline=None)
def test_any_entries_render_to_well_formed_feeds_that_round_trip(
    title: str, subtitle: str, items: list[Entry]
) -> None:
    _check_rendered(FeedMeta(FeedRef("all"), title, subtitle), items)


@given(st.text(max_size=400))
@settings(max_examples=200, deadline=None)
def test_any_dump_text_renders_to_well_formed_feeds(text: str) -> None:
    """Parser and renderer together: whatever a dump says becomes entries of valid feeds."""
    result = parse_dump(text, "any.txt")
    records, _ = to_records(result.items, "any.txt")
    items = [
        Entry(
            id=atom_id(r.key),
            uid=item_uid(r.key),
            title=r.title,
            link=r.link or f"http://localhost/items/{item_uid(r.key)}",
            author=r.agency or "gov.kz",
            categories=(Category("news", result.section or "News"),),
            content_html=content_html(r.body, r.link or ""),
            summary=summary_text(r.body),
            published=r.published,
            updated=r.published,
            lang=r.lang,
        )
        for r in records
    ]
    _check_rendered(
        FeedMeta(FeedRef("all"), result.section or "News", f"About {result.section}"), items
    )
