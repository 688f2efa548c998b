"""Full-text search in the store (issue 17), on SQLite (FTS5) and PostgreSQL (tsvector): the
sample dumps and a small Kazakh and Russian dump, with the exact releases each query finds,
newest first; the index kept by ingests, follows and the migration."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.dumps.itemparse import parse_bytes
from feeds.ingest import Ingester
from feeds.portal.enrich import Enrichment
from feeds.settings import Settings, load_settings
from feeds.store import IngestCounts, Store
from feeds.text.classify import load_topics
from feeds.text.links import LANGUAGE_ORDER
from feeds.text.search_terms import release_terms
from feeds.text.searchquery import parse_search
from tests.conftest import SAMPLE_DUMPS
from tests.search_samples import write_search_dump

# The releases of the sample dumps named below (gov.kz ids), newest first.
FOREIGN_AFFAIRS = ["1139153", "1129341", "1129353", "1129318"]
DECLARATION = ["1139304", "1138983"]
TAX_IN_ENGLISH = ["1139071", "1138993", "1139304", "1138983", None, "1129267"]
KAZAKHSTAN_IN_NEWS = [
    None, "1139165", "1139161", "1139148", "1139152", "1139153", "1139136", "1139071",
    "1139304", "1138983",
]  # fmt: skip
# The search dump (tests/search_samples.py).
SCHOOLS, SEMINAR, RU_TAXES, RU_TREE = "9000001", "9000002", "9000003", "9000004"


@pytest.fixture
def search_settings(database_url: str, tmp_path: Path) -> Settings:
    dumps = (*map(str, SAMPLE_DUMPS), str(write_search_dump(tmp_path)))
    return load_settings(env={}, database_url=database_url, dumps=dumps)


@pytest.fixture
def store(search_settings: Settings) -> Iterator[Store]:
    store = Store(search_settings.database_url)
    Ingester(store, search_settings).run(search_settings.dumps)
    yield store
    store.close()


def found(store: Store, q: str, **filters: object) -> list[str | None]:
    page = store.feed_rows(limit=500, search=parse_search(q), **filters)  # type: ignore[arg-type]
    return [row.govkz_id for row in page.rows]


@pytest.mark.parametrize("q", ["declarations", "declaration", "DECLARATIONS", "Déclarations"])
def test_english_word_forms_case_and_accents(store: Store, q: str) -> None:
    assert found(store, q) == DECLARATION


@pytest.mark.parametrize("q", ["налог", "налоги", "налогов", "НАЛОГ"])
def test_russian_word_forms(store: Store, q: str) -> None:
    # "Налоговые ... налогов ... Налоги" and "Налог на это не взимается".
    assert found(store, q) == [RU_TAXES, RU_TREE]


@pytest.mark.parametrize("q", ["мектеп", "мектептер", "мектептердің", "мектебі"])
def test_kazakh_suffixes_do_not_hide_a_word(store: Store, q: str) -> None:
    # "мектептер ... мектеп ... Мектептердің" and "Семинарға мектеп директорлары".
    assert found(store, q) == [SCHOOLS, SEMINAR]


@pytest.mark.parametrize("q", ["ёлка", "елка", "ЁЛКУ", "елку"])
def test_yo_is_ye(store: Store, q: str) -> None:
    # "новогоднюю ёлку" and "главную елку", "новогоднюю елку".
    assert found(store, q) == [RU_TAXES, RU_TREE]


def test_every_word_must_match(store: Store) -> None:
    assert found(store, "мектеп семинар") == [SEMINAR]
    assert found(store, "declaration goods") == ["1138983"]
    assert found(store, "declaration zebra") == []


def test_phrases_match_words_in_order(store: Store) -> None:
    assert found(store, '"foreign affairs"') == FOREIGN_AFFAIRS
    assert found(store, '"Foreign Affairs') == FOREIGN_AFFAIRS  # a quote left open
    assert found(store, '"affairs foreign"') == []
    assert found(store, '"новогоднюю ёлку"') == [RU_TAXES, RU_TREE]
    assert found(store, '"главную елку"') == [RU_TREE]
    assert found(store, '"жаңа мектептер"') == [SCHOOLS]


def test_exclusions(store: Store) -> None:
    # "Geneva" only in 1129353 (1129318 is of mfa-geneva, but says "United Nations").
    assert found(store, '"foreign affairs" -geneva') == ["1139153", "1129341", "1129318"]
    assert found(store, '"foreign affairs" -"united nations" -undp') == ["1139153"]
    assert found(store, "мектеп -семинар") == [SCHOOLS]
    assert found(store, "налог -площади") == [RU_TAXES]
    only_excluded = found(store, "-kazakhstan -налог -мектеп")
    # 41 releases, 17 saying "Kazakhstan" (or "Kazakhstan's"), 2 "налог" and 2 "мектеп".
    assert len(only_excluded) == 41 - 17 - 2 - 2 and SCHOOLS not in only_excluded


def test_each_filter_and_their_combinations(store: Store) -> None:
    assert found(store, "kazakhstan", topic="news") == KAZAKHSTAN_IN_NEWS
    assert found(store, "tax", lang="en") == TAX_IN_ENGLISH
    assert found(store, "tax", lang="ru") == []
    assert found(store, "налог", lang="ru") == [RU_TAXES, RU_TREE]
    assert found(store, "налог", lang="kk") == []
    assert found(store, "мектеп", agencies=frozenset({"kgd-almaty"})) == [SEMINAR]
    kgd = frozenset({"kgd-almaty", "kgd-kostanay", "kgd-zhetysu", "kgd-vko", "kgd-akmola"})
    assert found(store, "tax", agencies=kgd) == [
        "1139071",
        "1138993",
        "1139304",
        "1138983",
        "1129267",
    ]
    assert found(store, "tax", agencies=kgd, topic="news", lang="en") == [
        "1139071", "1138993", "1139304", "1138983",
    ]  # fmt: skip
    assert found(store, "мектеп", agencies=kgd, topic="zhangalyqtar", lang="kk") == [SEMINAR]


@pytest.mark.parametrize(
    "q",
    [
        "NEAR(foreign affairs)", "foreign*", "terms:foreign", "title : foreign", "foreign AND",
        "OR NOT foreign", "foreign'", "'); DROP TABLE items; --", "foreign & !affairs",
        "foreign <-> affairs", "foreign:*", "\\foreign\\", "{foreign}", "^foreign",
        '"foreign" + "affairs"',
    ],
)  # fmt: skip
def test_engine_syntax_is_only_text(store: Store, q: str) -> None:
    """What FTS5 or tsquery would read as syntax is punctuation or words here."""
    results = found(store, q)
    assert set(results) <= set(found(store, "foreign"))


def test_the_index_follows_changed_text(search_settings: Settings, tmp_path: Path) -> None:
    store = Store(search_settings.database_url)
    ingester = Ingester(store, search_settings)
    ingester.run(search_settings.dumps)
    dump = tmp_path / "search-kk-ru.txt"
    dump.write_text(dump.read_text().replace("ёлку", "гирлянду"), encoding="utf-8")
    ingester.run([str(dump)])
    assert found(store, "ёлка") == [RU_TREE]
    assert found(store, "гирлянда") == [RU_TAXES]
    store.close()


def follow_the_declaration(store: Store) -> None:
    """What following 1138983 brings: the API's text, with words the dump's has not."""
    (row,) = [r for r in store.item_rows() if r["govkz_id"] == "1138983"]
    enrichment = Enrichment(
        title="Liability for false declaration of goods",
        body_html="<p>Customs <b>brokers</b> explain the penalties.</p>",
        published=None,
        image=None,
    )
    store.save_enrichment(row["id"], enrichment, datetime.now(UTC), lambda *_: frozenset())


def test_the_apis_full_text_is_searched(store: Store) -> None:
    follow_the_declaration(store)
    assert found(store, "brokers penalty") == ["1138983"]
    assert found(store, '"customs brokers"') == ["1138983"]
    assert found(store, "declaration goods") == ["1138983"]  # the dump's text still counts


def test_a_followed_items_index_keeps_the_apis_text_when_its_dump_text_changes(
    store: Store, search_settings: Settings, tmp_path: Path
) -> None:
    """An update of a followed item is indexed from its new dump text and the API's text."""
    follow_the_declaration(store)
    edited = tmp_path / SAMPLE_DUMPS[0].name
    text = SAMPLE_DUMPS[0].read_text(encoding="utf-8")
    end = "one hundred and fifty monthly calculation indices."
    assert text.count(end) == 1
    edited.write_text(text.replace(end, f"{end} Payable in Zanzibar."), encoding="utf-8")
    (report,) = Ingester(store, search_settings).run([str(edited)])
    assert report.counts.updated == 1
    assert found(store, "zanzibar") == ["1138983"]
    assert found(store, "brokers penalty") == ["1138983"]
    assert found(store, "declaration goods") == ["1138983"]


def test_a_store_of_before_the_index_is_indexed_by_the_migration(database_url: str) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from feeds.store.engine import alembic_config

    old = Store(database_url, migrate=False)
    with old.engine.begin() as connection:
        config = alembic_config(connection)
        before = ScriptDirectory.from_config(config).get_revision("0006").down_revision
        command.upgrade(config, before)  # the revision before the index, whichever it is
    settings = load_settings(env={}, database_url=database_url, dumps=tuple(map(str, SAMPLE_DUMPS)))
    # Ingested by the code of before (no index): the store's batch write with the hook
    # undone (the ingest's segments table, source_items, is a later revision's).
    import feeds.store.items as store_items

    topics_of = load_topics(settings.topics_file).topics_of
    real, store_items.index_rows = store_items.index_rows, lambda *_, **__: None
    # Today's batch write reads and writes items.origins (0008): the column is lent to the
    # old schema for the write and taken back after, so 0006 meets the store it met then.
    try:
        with old.engine.begin() as connection:
            connection.exec_driver_sql(
                "ALTER TABLE items ADD COLUMN origins TEXT NOT NULL DEFAULT 'dump'"
            )
            for path in SAMPLE_DUMPS:
                records = parse_bytes(path.read_bytes(), path.name).records
                counts = IngestCounts()
                now = datetime.now(UTC)
                store_items._ingest_batch(
                    connection,
                    path.name,
                    records,
                    now,
                    counts,
                    topics_of,
                    LANGUAGE_ORDER,
                    release_terms,
                )
            connection.exec_driver_sql("ALTER TABLE items DROP COLUMN origins")
    finally:
        store_items.index_rows = real
    old.close()
    store = Store(database_url)  # opening it migrates: 0006 indexes what is there
    assert found(store, '"foreign affairs"') == FOREIGN_AFFAIRS
    store.close()


def test_a_search_of_a_topic_follows_reclassification(
    search_settings: Settings, store: Store, tmp_path: Path
) -> None:
    from dataclasses import replace

    assert found(store, "zoo", topic="tourism-culture") == ["1139146"]
    rules = tmp_path / "topics.toml"
    rules.write_text(
        '[sections.News]\nslug = "news"\nname = "News"\n\n[topics.zoo]\nname = "Zoos"\nen = ["zoo*"]\n',
        encoding="utf-8",
    )
    changed = replace(search_settings, topics_file=str(rules))
    Ingester(store, changed).run(changed.dumps)  # the dumps did not change; the rules did
    assert found(store, "zoo", topic="zoo") == ["1139146"]
    assert found(store, "zoo", topic="tourism-culture") == []
    assert found(store, "zoo") == ["1139146"]


def test_both_stores_keep_the_same_positions_of_a_long_release(
    search_settings: Settings, store: Store, tmp_path: Path
) -> None:
    """PostgreSQL keeps 256 positions of a word: past them, no store finds a phrase."""
    from datetime import date

    from feeds.dumps.dumpwrite import DumpItem, write_dump

    body = "Tax audit. " + "tax " * 300 + "final words."
    link = "https://www.gov.kz/memleket/entities/kgd/press/news/details/9000100?lang=en"
    dump = tmp_path / "long.txt"
    dump.write_text(write_dump("News", [DumpItem("Long", date(2026, 1, 12), body, link)]))
    Ingester(store, search_settings).run([str(dump)])
    assert found(store, '"tax audit"') == ["9000100"]
    assert found(store, '"final words"') == ["9000100"]
    assert found(store, "final words") == ["9000100", "1129425"]  # that one has both words
    assert found(store, '"tax final"') == []  # the 301st "tax": not indexed
    assert found(store, '"tax tax"') == ["9000100"]


def test_a_new_item_taking_a_removed_items_id_is_found_by_its_own_words(
    store: Store, search_settings: Settings, tmp_path: Path
) -> None:
    """SQLite's index has no cascade: an item removed by hand leaves its index row, and the
    next new item gets its id (the largest id is reused). The new item's row replaces it."""
    with store.engine.begin() as connection:
        last = connection.exec_driver_sql("SELECT max(id) FROM items").scalar_one()
        for table in ("follows", "item_topics"):
            connection.exec_driver_sql(f"DELETE FROM {table} WHERE item_id = {last}")
        connection.exec_driver_sql(f"DELETE FROM items WHERE id = {last}")
    assert found(store, "площади") == []  # the search dump's last item (RU_TREE), removed
    dump = tmp_path / "later.txt"
    dump.write_text(
        "News\nA lighthouse keeper retires 01.02.2026\nThe lighthouse on the Caspian shore.\n",
        encoding="utf-8",
    )
    (report,) = Ingester(store, search_settings).run([str(dump)])
    assert report.counts.new == 1
    with store.engine.connect() as connection:
        newest = connection.exec_driver_sql("SELECT max(id) FROM items").scalar_one()
    if store.engine.dialect.name == "sqlite":
        assert newest == last
    # Its words, not the removed item's, are the ones found at that id.
    assert found(store, "lighthouse") == [None]
    assert found(store, "площади") == []


def test_an_ingest_gathers_8_mb_of_new_terms_before_fts5_writes_a_segment(
    tmp_path: Path,
) -> None:
    """Issue 31: FTS5's buffer of new terms (`hashsize`, 1 MB by default) is set at the
    start of an ingest on SQLite, once, in the index's own config table."""
    import sqlite3

    from feeds.store.search import FTS5_HASH_BYTES

    db = tmp_path / "feeds.sqlite3"
    settings = load_settings(
        env={}, database_url=f"sqlite:///{db}", dumps=tuple(map(str, SAMPLE_DUMPS))
    )
    store = Store(settings.database_url)
    try:
        Ingester(store, settings).run(settings.dumps)
    finally:
        store.close()
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute("SELECT k, v FROM search_index_config").fetchall()
    finally:
        connection.close()
    assert ("hashsize", FTS5_HASH_BYTES) in rows, f"{db}: search_index_config holds {rows}"
