"""Ingesting the two real sample dumps: every item checked against a table written by reading
the dumps by eye (tests/expected_items.py)."""

from pathlib import Path

from feeds.dumps.records import day_start
from feeds.ingest import parse_bytes
from feeds.store import Store
from tests.conftest import SAMPLE_DUMPS
from tests.expected_items import ITEMS
from tests.store.test_store import NOW, ingest_file


def test_the_table_covers_both_dumps() -> None:
    assert [sum(1 for i in ITEMS if i.dump == path.name) for path in SAMPLE_DUMPS] == [19, 18]
    assert sum(1 for i in ITEMS if i.link is None) == 4  # the items without any link
    assert sum(1 for i in ITEMS if i.body_start == "") == 2  # bodies that are only a Source line


def test_parser_gives_exactly_the_table() -> None:
    found = []
    for path in SAMPLE_DUMPS:
        parsed = parse_bytes(path.read_bytes(), path.name)
        assert parsed.problems == []
        for record in parsed.records:
            found.append(
                (
                    path.name,
                    record.line,
                    record.section,
                    record.title,
                    record.day.isoformat(),
                    record.agency,
                    record.govkz_id,
                    record.link,
                    record.other_sources[0] if record.other_sources else None,
                    record.body[:40],
                )
            )
    assert found == [tuple(item) for item in ITEMS]


def test_store_holds_exactly_the_table(store: Store) -> None:
    counts = [ingest_file(store, path, NOW, name=path.name) for path in SAMPLE_DUMPS]
    assert [(c.found, c.new) for c in counts] == [(19, 19), (18, 18)]
    rows = {(row["first_source"], row["first_line"]): row for row in store.item_rows()}
    assert len(rows) == 37
    for item in ITEMS:
        row = rows[(item.dump, item.line)]
        assert (
            row["title"],
            row["day"].isoformat(),
            row["agency"],
            row["govkz_id"],
            row["link"],
        ) == (item.title, item.date, item.agency, item.govkz_id, item.link)
        assert row["sections"] == item.section
        assert row["published"] == day_start(row["day"]) == row["updated"]
        expected = f"govkz:press/news:{item.govkz_id}" if item.govkz_id else row["release"]
        assert row["release"] == expected
        assert row["key"] == f"{expected}#{row['lang']}"  # the version of that language
        assert row["release"].startswith("title:") == (item.link is None)


def test_items_without_links_are_keyed_by_title_and_date(tmp_path: Path) -> None:
    keys = sorted(
        r.release
        for path in SAMPLE_DUMPS
        for r in parse_bytes(path.read_bytes(), path.name).records
        if not r.link
    )
    assert keys == [
        "title:2025-12-19:the mayor of shymkent met with entrepreneurs",
        "title:2025-12-20:a non woven fabrics factory and a metal door plant opened in shymkent",
        "title:2025-12-20:the head of state participated in the central asia japan business forum",
        "title:2026-01-10:a majilis deputy held a meeting with students in shymkent",
    ]
