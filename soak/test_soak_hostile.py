"""Hostile dumps at full size: the corpus of tests/hostile_corpus.py with a million short
lines instead of a hundred thousand, ingested into SQLite and PostgreSQL; every item
stored once, every feed valid (W3C validator on the first pages when available)."""

import time
from pathlib import Path

from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.store import Store
from feeds.web.app import create_app
from tests.hostile_corpus import BUILDERS, corpus, many_short_lines
from tests.reliability import check_every_feed, load_w3c, w3c_errors

MILLION = many_short_lines(1_000_000)


def test_a_million_short_lines_and_the_whole_corpus(settings: Settings, tmp_path: Path) -> None:
    builders = tuple(
        MILLION if b.__qualname__.startswith("many_short_lines") else b for b in BUILDERS
    )
    cases = list(corpus(builders=builders))
    paths = []
    for case in cases:
        path = tmp_path / f"{case.name}.txt"
        path.write_bytes(case.data)
        paths.append(str(path))
    app = create_app(settings)
    store: Store = app.extensions["feeds"].store
    started = time.monotonic()
    reports = Ingester(store, settings).run(paths)
    seconds = time.monotonic() - started
    by_name = {str(tmp_path / f"{c.name}.txt"): c for c in cases}
    for report in reports:
        case = by_name[report.source]
        assert report.error is None
        assert (report.counts.found, report.counts.new) == (case.expected, case.expected), case.name
    total = sum(c.expected for c in cases)
    assert store.count_items() == total
    client = app.test_client()
    checked = check_every_feed(client)
    w3c = load_w3c()
    if w3c is not None:
        for path in ("/all.atom?limit=500", "/all.rss?limit=500", "/topics/news.atom?limit=500"):
            assert w3c_errors(w3c, client.get(path).data, f"http://localhost{path}") == [], path
    million = next(c for c in cases if c.name == "short-lines-1000000")
    print(
        f"\nhostile corpus: {len(cases)} dumps, {sum(len(c.data) for c in cases) / 1e6:.1f} MB, "
        f"{total} items expected and stored (the million-line dump: {million.expected}), "
        f"ingested in {seconds:.1f} s, {checked} feed representations checked, 0 crashes"
    )
