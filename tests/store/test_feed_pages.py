"""Feed pages from the store (SQLite and PostgreSQL): every filter the web offers (everything,
an agency, a parent's subtree, a topic, each with and without `?lang=`) paged forwards and
backwards gives exactly the items a plain Python filter and sort of every stored row gives.
The queries behind them differ by shape (one index range, or one per agency merged), so
each shape is checked against the same independent answer."""

from pathlib import Path

import pytest
from sqlalchemy import select

from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.store import MERGED_AGENCIES, Cursor, Store
from feeds.store.schema import item_topics
from tests.web.test_security import scale_dump

MFA_SUBTREE = frozenset({"mfa", *(f"mfa-e{k}" for k in range(20))})
FILTERS = [
    ("everything", None, None),
    ("one agency", frozenset({"mfa-e3"}), None),
    ("an agency with no items", frozenset({"nobody"}), None),
    ("a dense subtree", MFA_SUBTREE, None),
    ("a sparse subtree", frozenset({"mvd", "mvd-e1", "mvd-e2"}), None),
    ("a subtree above the merge bound", frozenset({f"x{k}" for k in range(250)} | {"kgd"}), None),
    ("a topic", None, "news"),
]


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dump = tmp_path_factory.mktemp("pages") / "scale.txt"
    scale_dump(dump, 1_200)
    return dump


@pytest.fixture
def filled(store: Store, settings: Settings, scaled: Path) -> Store:
    (report,) = Ingester(store, settings).run([str(scaled)])
    assert report.counts.new == 1_200
    return store


def expected(store: Store, agencies, topic, lang) -> list[int]:
    """Item ids newest first, by reading every row."""
    with store.engine.connect() as connection:
        in_topic = set(
            connection.scalars(select(item_topics.c.item_id).where(item_topics.c.topic == topic))
        )
    rows = [
        row
        for row in store.item_rows()
        if (agencies is None or row["agency"] in agencies)
        and (topic is None or row["id"] in in_topic)
        and (lang is None or row["lang"] == lang)
    ]
    rows.sort(key=lambda row: (row["sort_key"], row["id"]), reverse=True)
    return [row["id"] for row in rows]


def walk_forwards(store: Store, limit: int, **filters) -> list[int]:
    seen: list[int] = []
    after: Cursor | None = None
    while True:
        page = store.feed_rows(limit=limit, after=after, **filters)
        seen += [row.id for row in page.rows]
        if not page.more:
            return seen
        after = (page.rows[-1].sort_key, page.rows[-1].id)


def walk_backwards(store: Store, limit: int, oldest: Cursor, **filters) -> list[int]:
    """From just after the oldest item up to the newest, pages read with `before`."""
    seen: list[int] = []
    before: Cursor | None = oldest
    while True:
        page = store.feed_rows(limit=limit, before=before, **filters)
        seen = [row.id for row in page.rows] + seen
        if not page.more:
            return seen
        before = (page.rows[0].sort_key, page.rows[0].id)


@pytest.mark.parametrize("lang", [None, "en", "ru", "kk"])
@pytest.mark.parametrize(("name", "agencies", "topic"), FILTERS, ids=[f[0] for f in FILTERS])
def test_every_page_shape_pages_through_exactly_its_items(
    filled: Store, name: str, agencies, topic, lang
) -> None:
    want = expected(filled, agencies, topic, lang)
    filters = {"agencies": agencies, "topic": topic, "lang": lang}
    assert walk_forwards(filled, 37, **filters) == want
    if want:
        rows = {row["id"]: row for row in filled.item_rows()}
        oldest = rows[want[-1]]
        # `before` is exclusive: starting at the oldest item gives every item newer than it.
        assert (
            walk_backwards(filled, 37, (oldest["sort_key"], oldest["id"]), **filters) == (want[:-1])
        )


def test_the_sample_filters_have_items_in_both_languages(filled: Store) -> None:
    """The comparisons above are not all of empty lists: the shapes hold these counts."""
    counts = {
        (name, lang): len(expected(filled, agencies, topic, lang))
        for name, agencies, topic in FILTERS
        for lang in ("en", "ru")
    }
    # Worked out from scale_dump's rules for 1,200 items (i = 0..1199): agency i % 24 of
    # [mfa, mfa-e0..e19, kgd, almaty, mod], except edu when i % 10 == 7 and mvd-e1/e2 when
    # i % 500 is 13/14; Russian when i % 5 == 0. E.g. mfa-e3 is i % 24 == 4: 50 items, of
    # which i % 120 == 100 are Russian (10); the mfa subtree is i % 24 <= 20: 1,050, less
    # 100 edu and 6 mvd; Russian there: 21 of each 24 multiples of 5 in 120, times 10.
    assert counts == {
        ("everything", "en"): 960,
        ("everything", "ru"): 240,
        ("one agency", "en"): 40,
        ("one agency", "ru"): 10,
        ("an agency with no items", "en"): 0,
        ("an agency with no items", "ru"): 0,
        ("a dense subtree", "en"): 734,
        ("a dense subtree", "ru"): 210,
        ("a sparse subtree", "en"): 6,
        ("a sparse subtree", "ru"): 0,
        ("a subtree above the merge bound", "en"): 30,
        ("a subtree above the merge bound", "ru"): 10,
        ("a topic", "en"): 960,
        ("a topic", "ru"): 240,
    }
    assert len(FILTERS[5][1]) > MERGED_AGENCIES
