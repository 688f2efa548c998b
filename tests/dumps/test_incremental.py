"""A re-ingest costs what changed (issue 18): a grown dump (new items on top, one edited in
the middle, one removed) parses only its new and edited items, counts exactly what changed,
reports every problem of the unchanged items at its new line, and leaves the store as an
ingest of the whole dump would; the pool of parsing processes gives what the ingest's own
process gives."""

import os
import signal
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import feeds.dumps.parsepool
import feeds.ingest
from feeds.dumps.dumpsplit import Segment
from feeds.dumps.dumpwrite import DumpItem, write_dump
from feeds.dumps.parsepool import ParsePool
from feeds.dumps.records import KAZAKHSTAN, day_start
from feeds.dumps.sources import Source
from feeds.errors import Problem
from feeds.ingest import Ingester, _batches, parse_bytes
from feeds.settings import Settings
from feeds.store import Store
from feeds.text.search_terms import release_terms
from feeds.text.searchquery import parse_search

LINK = "https://www.gov.kz/memleket/entities/{agency}/press/news/details/{id}?lang=en"


def item(i: int, edit: str = "") -> DumpItem:
    """Item `i`: a title line, two body lines and its link; item 4's body has a control
    character and item 7's a date written another way (both reported with their line)."""
    first = "Signed on 10.01.2026 г." if i == 7 else f"The first line of item {i}.{edit}"
    second = "A bell \x07 in the text." if i == 4 else "A second line about taxes."
    return DumpItem(
        title=f"Item {i} on the economy",
        day=date(2026, 1, 20) - timedelta(days=i // 3),
        body=f"{first}\n{second}",
        link=LINK.format(agency="mfa" if i % 2 else "kgd", id=1000 + i),
    )


def first_dump() -> str:
    """Items 20 down to 1, with a bad date after item 10 and item 12 repeated at the end."""
    text = write_dump("News", [item(i) for i in range(20, 0, -1)])
    lines = text.split("\n")
    at = line_of(text, "Item 10 on") + 2  # after item 10's three lines
    lines[at:at] = ["Lost item 31.02.2026", "Its body."]
    return "\n".join([*lines, *write_dump("", [item(12)]).split("\n")[1:]])


def grown_dump() -> str:
    """Three new items on top (23, 22, 21), item 15 edited, item 9 removed."""
    text = first_dump()
    text = text.replace("The first line of item 15.", "The first line of item 15, corrected.")
    lines = text.split("\n")
    at = line_of(text, "Item 9 on") - 1
    del lines[at : at + 3]
    new = write_dump("", [item(23), item(22), item(21)]).split("\n")[1:]
    return "\n".join([lines[0], *new, *lines[1:]])


def line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if line.startswith(start))


def expected_problems(name: str, text: str) -> list[Problem]:
    """Every problem of the dump, with the line it has in this text."""
    bell = line_of(text, "A bell")
    found = [
        Problem(name, bell, "removed 1 control or invisible character(s)"),
        Problem(
            name,
            line_of(text, "Signed on"),
            "line ends with a date not written DD.MM.YYYY (10.01.2026); "
            "read as body text, not as a new item",
        ),
        Problem(
            name,
            line_of(text, "Lost item"),
            "title date 31.02.2026 is not a real date (day is out of range for month); "
            "item skipped",
        ),
        Problem(
            name,
            len(text.split("\n")) - 2,
            f"same item as line {line_of(text, 'Item 12 on')}; kept the first",
        ),
    ]
    return sorted(found, key=lambda p: p.line or 0)


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    path = tmp_path / "news.txt"
    path.write_text(first_dump(), encoding="utf-8")
    return path


def parsed_segments(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The first lines of the segments the ingest parses from now on."""
    seen: list[int] = []
    real = feeds.ingest.parse_items

    def counting(tasks, *args):  # type: ignore[no-untyped-def]
        seen.extend(segment.line for segment, _ in tasks)
        return real(tasks, *args)

    monkeypatch.setattr(feeds.ingest, "parse_items", counting)
    return seen


def test_a_grown_dump_parses_and_writes_only_what_changed(
    store: Store, settings: Settings, dump: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingester = Ingester(store, settings)
    first = ingester.ingest(Source(str(dump)))
    assert (first.counts.found, first.counts.new, first.counts.updated) == (20, 20, 0)
    assert first.problems == expected_problems(str(dump), first_dump())
    before = {row["release"]: row for row in store.item_rows()}

    dump.write_text(grown_dump(), encoding="utf-8")
    parsed = parsed_segments(monkeypatch)
    grown = ingester.ingest(Source(str(dump)))

    text = grown_dump()
    assert parsed == [line_of(text, f"Item {i} on") for i in (23, 22, 21, 15)]
    counts = grown.counts
    assert (counts.found, counts.new, counts.updated, counts.unchanged) == (22, 3, 1, 18)
    assert grown.problems == expected_problems(str(dump), text)
    # The store holds what an ingest of the whole grown dump holds: edits in place, the
    # removed item kept (a dump is a window, not the archive), positions of the new items.
    after = {row["release"]: row for row in store.item_rows()}
    assert len(after) == 23
    assert after["govkz:press/news:1015"]["body"].startswith("The first line of item 15, corr")
    assert (
        after["govkz:press/news:1015"]["published"] == before["govkz:press/news:1015"]["published"]
    )
    assert after["govkz:press/news:1015"]["updated"] > before["govkz:press/news:1015"]["updated"]
    for i in (1, 9, 12, 20):
        assert after[f"govkz:press/news:{1000 + i}"] == before[f"govkz:press/news:{1000 + i}"]
    whole = {r.release: r for r in parse_bytes(text.encode(), str(dump)).records}
    for i in (23, 22, 21):
        row, record = after[f"govkz:press/news:{1000 + i}"], whole[f"govkz:press/news:{1000 + i}"]
        assert (row["position"], row["sort_key"], row["first_line"]) == (
            record.position, record.sort_key, record.line
        )  # fmt: skip
    # The segments kept are the grown dump's: the removed and the replaced one forgotten.
    assert len(store.source_segments(str(dump))) == 22 + 1  # and the bad date's segment


def test_an_unchanged_segment_is_written_again_when_the_store_holds_another_version(
    store: Store, settings: Settings, dump: Path, tmp_path: Path
) -> None:
    ingester = Ingester(store, settings)
    ingester.ingest(Source(str(dump)))
    other = tmp_path / "other.txt"  # another scraper's dump rewrites item 5
    other.write_text(write_dump("News", [item(5, " Elsewhere.")]), encoding="utf-8")
    assert ingester.ingest(Source(str(other))).counts.updated == 1
    dump.write_text(write_dump("News", [item(24)]) + "\n" + first_dump().split("\n", 1)[1])
    again = ingester.ingest(Source(str(dump)))
    assert (again.counts.new, again.counts.updated, again.counts.unchanged) == (1, 1, 19)
    row = next(r for r in store.item_rows() if r["release"] == "govkz:press/news:1005")
    assert row["body"] == "The first line of item 5.\nA second line about taxes."


def test_a_duplicate_that_becomes_the_first_is_written(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "dup.txt"
    path.write_text(write_dump("News", [item(3), item(3, " Other text.")]))
    ingester = Ingester(store, settings)
    assert ingester.ingest(Source(str(path))).counts.new == 1
    path.write_text(write_dump("News", [item(3, " Other text.")]))  # the first copy removed
    again = ingester.ingest(Source(str(path)))
    assert (again.counts.updated, again.problems) == (1, [])
    (row,) = store.item_rows()
    assert row["body"].startswith("The first line of item 3. Other text.")


def test_the_parsing_pool_gives_what_the_ingest_process_gives(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pool.txt"
    text = first_dump()
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(feeds.ingest, "SEGMENTS", 4)  # several batches in flight
    submitted: list[int] = []
    real_submit = ParsePool.submit

    def submit(pool, tasks, *args):  # type: ignore[no-untyped-def]
        submitted.append(len(tasks))
        return real_submit(pool, tasks, *args)

    monkeypatch.setattr(ParsePool, "submit", submit)
    rows = {}
    for workers, min_bytes in ((1, 0), (2, 0)):
        monkeypatch.setattr(feeds.ingest, "POOL_MIN_BYTES", min_bytes)
        monkeypatch.setattr(feeds.ingest, "POOL_MIN_SEGMENTS", 1)
        url = f"sqlite:///{tmp_path / f'pool-{workers}.sqlite3'}"
        store = Store(url)
        try:
            ingester = Ingester(store, replace(settings, database_url=url, ingest_workers=workers))
            (report,) = ingester.run([str(path)])
            assert report.problems == expected_problems(str(path), text)
            rows[workers] = [
                {k: v for k, v in row.items() if k not in ("updated", "published")}
                for row in store.item_rows()
            ]
            rows[workers, "topics"] = sorted(store.topic_counts())
            rows[workers, "index"] = search_index(store)
        finally:
            store.close()
    # 22 item segments (20 items, a bad date, item 12 again); the last copy of item 12 has
    # the bytes of the first, known by the time its batch is looked up: not parsed again.
    assert submitted == [4, 4, 4, 4, 4, 1]
    assert rows[1] == rows[2] and len(rows[1]) == 20
    assert rows[1, "topics"] == rows[2, "topics"]
    # The search terms the workers made are those of each item's own text.
    expected = [
        (row["id"], release_terms(row["title"], row["body"], row["lang"])) for row in rows[1]
    ]
    assert rows[1, "index"] == rows[2, "index"] == expected


def test_batches_near_the_end_of_a_pooled_dump_are_smaller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 31: once less of a dump the pool parses is left than the batches it holds
    ahead, the batches are of TAIL_SEGMENTS; every segment comes once, in order."""
    for name, value in (("SEGMENTS", 5), ("TAIL_SEGMENTS", 2), ("AHEAD", 2)):
        monkeypatch.setattr(feeds.ingest, name, value)
    parts = [Segment(line, b"x" * 99, 1) for line in range(1, 31)]  # 100 bytes with its end

    def sizes(pooled_bytes: int | None) -> list[int]:
        batches = list(_batches(iter(parts), "Section", pooled_bytes))
        assert [segment for batch in batches for segment, _ in batch] == parts
        return [len(batch) for batch in batches]

    # After the 4th batch, 1,000 bytes are left: less than 3 batches of 500.
    assert sizes(3000) == [5, 5, 5, 5, 2, 2, 2, 2, 2]
    assert sizes(None) == [5] * 6  # parsed in the ingest's own process: no need


def search_index(store: Store) -> list[tuple[int, str]]:
    with store.engine.connect() as connection:
        return list(connection.exec_driver_sql("SELECT rowid, terms FROM search_index ORDER BY 1"))


def test_the_parsing_processes_make_the_search_terms(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the pool, the ingest's own process makes no terms (here it cannot): the text's
    work is all done by the workers, which send it back with the records."""
    path = tmp_path / "pool.txt"
    path.write_text(first_dump(), encoding="utf-8")
    for name, value in (("SEGMENTS", 4), ("POOL_MIN_BYTES", 0), ("POOL_MIN_SEGMENTS", 1)):
        monkeypatch.setattr(feeds.ingest, name, value)

    def refused(*args: object) -> str:
        raise AssertionError("terms made in the ingest's process")

    # Both places the ingest's process could make them (the spawned workers import their own).
    monkeypatch.setattr(feeds.ingest, "release_terms", refused)
    monkeypatch.setattr(feeds.dumps.parsepool, "release_terms", refused)
    store = Store(settings.database_url)
    try:
        # A broken pool would parse here, and fail the ingest with the refusal.
        (report,) = Ingester(store, replace(settings, ingest_workers=2)).run([str(path)])
        assert (report.error, report.counts.new) == (None, 20)
        page = store.feed_rows(limit=50, search=parse_search("bell"))
        assert [row.govkz_id for row in page.rows] == ["1004"]  # item 4: "A bell in the text"
    finally:
        store.close()


def test_an_ingest_goes_on_when_the_parsing_processes_die(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pool.txt"
    path.write_text(first_dump(), encoding="utf-8")
    for name, value in (("SEGMENTS", 4), ("POOL_MIN_BYTES", 0), ("POOL_MIN_SEGMENTS", 1)):
        monkeypatch.setattr(feeds.ingest, name, value)
    real_submit = ParsePool.submit

    def submit_then_kill(pool, tasks, *args):  # type: ignore[no-untyped-def]
        future = real_submit(pool, tasks, *args)
        for process in list(pool._pool._processes.values()):  # as the OOM killer would
            with suppress(ProcessLookupError):  # dead already
                os.kill(process.pid, signal.SIGKILL)
        return future

    monkeypatch.setattr(ParsePool, "submit", submit_then_kill)
    store = Store(settings.database_url)
    try:
        ingester = Ingester(store, replace(settings, ingest_workers=2))
        (report,) = ingester.run([str(path)])
        assert (report.error, report.counts.new) == (None, 20)
        assert report.problems == expected_problems(str(path), first_dump())
    finally:
        store.close()


def test_the_progress_bar_counts_the_dumps_bytes_to_its_size(
    store: Store, settings: Settings, dump: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeds.ingest, "SEGMENTS", 4)
    bars: dict[str, tuple[int, list[int]]] = {}

    def progress(name: str, total: int):  # type: ignore[no-untyped-def]
        steps: list[int] = []
        bars[name] = (total, steps)
        return steps.append

    Ingester(store, settings, progress=progress).ingest(Source(str(dump)))
    total, steps = bars[str(dump)]
    assert total == dump.stat().st_size and sum(steps) == total and len(steps) == 7


def test_a_title_dated_days_ahead_is_dated_when_first_read_and_told_at_each_ingest(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    """A day-month swap (01.10 for 10.01) or a year's typo would keep an entry on top of
    every feed, and every feed's `updated` in the future, until that day."""
    today = datetime.now(KAZAKHSTAN).date()
    ahead, tomorrow = today + timedelta(days=40), today + timedelta(days=1)
    path = tmp_path / "ahead.txt"
    body = {"body": "A body.", "other_sources": ()}
    path.write_text(
        write_dump(
            "News",
            [
                DumpItem("Dated ahead", ahead, link=LINK.format(agency="mfa", id=1), **body),
                DumpItem("Dated tomorrow", tomorrow, link=LINK.format(agency="mfa", id=2), **body),
                DumpItem("Dated today", today, link=LINK.format(agency="mfa", id=3), **body),
            ],
        ),
        encoding="utf-8",
    )
    started = datetime.now(UTC).replace(microsecond=0)
    report = Ingester(store, settings).ingest(Source(str(path)))
    rows = {row["title"]: row for row in store.item_rows()}
    assert started <= rows["Dated ahead"]["published"] <= datetime.now(UTC)
    assert rows["Dated ahead"]["updated"] == rows["Dated ahead"]["published"]
    assert rows["Dated tomorrow"]["published"] == day_start(tomorrow)  # another time zone
    assert rows["Dated today"]["published"] == day_start(today)
    told = Problem(
        str(path),
        2,
        f"title date {ahead:%d.%m.%Y} is after the day of the ingest that read it "
        f"({today:%d.%m.%Y}); dated when first read",
    )
    assert report.problems == [told]
    again = Ingester(store, settings).ingest(Source(str(path)))
    assert again.problems == [told] and again.counts.unchanged == 3
    assert {row["title"]: row for row in store.item_rows()} == rows


def test_parsed_items_cross_between_processes_as_tuples_and_come_back_equal() -> None:
    """Issue 31: the pool's workers send tuples (`parsepool.pack`), not pickled dataclasses;
    what the ingest's process rebuilds (`unpack`) is equal to what was parsed, field by field,
    for items with and without records, problems, subjects and terms."""
    import pickle

    from feeds.dumps.dumpsplit import lines_of, segments
    from feeds.dumps.itemparse import ParsedItem, parse_head
    from feeds.dumps.parsepool import pack, parse_items, unpack
    from feeds.settings import load_settings
    from feeds.text.classify import load_topics
    from tests.conftest import SAMPLE_DUMPS

    rules = load_topics(load_settings(env={}).topics_file)
    for dump in SAMPLE_DUMPS:
        parts = segments(lines_of([dump.read_bytes()]))
        section, _ = parse_head(next(parts), dump.name)
        parsed = parse_items([(s, True) for s in parts], dump.name, section, rules)
        parsed.append(ParsedItem(7, None, ((0, "a problem"),)))
        back = unpack(pickle.loads(pickle.dumps(pack(parsed))))
        assert back == parsed, dump.name
        assert [vars(item.record) for item in back if item.record] == [
            vars(item.record) for item in parsed if item.record
        ]
