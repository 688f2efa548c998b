"""The aggregates behind the index and the OPML (item counts per agency, topic and language)
are computed once per content version for the whole deployment: by the scheduler after each
change, or by the first process that needs them, and then read from the store."""

from collections import Counter
from dataclasses import replace
from pathlib import Path

from sqlalchemy import event

from feeds.publish.fingerprint import pages_fingerprint
from feeds.scheduler import Tick
from feeds.settings import Settings
from feeds.store import Store, Summary, summary_key
from feeds.web.app import create_app
from tests.conftest import SAMPLE_DUMPS
from tests.expected_items import ITEMS


def aggregate_statements(store: Store) -> list[str]:
    """Statements that scan for aggregates, as the store's engine runs them."""
    seen: list[str] = []

    def listen(_conn, _cursor, statement: str, *_args) -> None:
        if "count(" in statement.lower() or "GROUP BY" in statement:
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", listen)
    return seen


def test_the_scheduler_leaves_the_counts_so_no_reader_waits_for_them(
    settings: Settings,
) -> None:
    store = Store(settings.database_url)
    Tick(store, replace(settings, follow=False))()
    saved = store.get_rendered(summary_key(pages_fingerprint(settings)), store.content_version())
    assert saved is not None
    summary = Summary.from_json(saved["body"])
    assert summary == store.summary()
    by_agency = Counter(item.agency for item in ITEMS if item.agency)
    assert summary.items == len(ITEMS) == 37
    assert {row.name: row.items for row in summary.agencies} == dict(by_agency)
    assert summary.languages[("all", "")] == {"en": 35, "ru": 2}
    store.close()

    app = create_app(settings)
    scans = aggregate_statements(app.extensions["feeds"].store)
    client = app.test_client()
    for path in ("/", "/feeds.opml", "/agencies/mfa", "/topics/news"):
        assert client.get(path).status_code == 200, path
    assert scans == []
    assert "37 items" in client.get("/").text


def test_a_change_makes_the_next_reader_count_again_and_share_it(
    settings: Settings, tmp_path: Path
) -> None:
    dump = tmp_path / "news.txt"
    dump.write_bytes(SAMPLE_DUMPS[0].read_bytes())
    settings = replace(settings, dumps=(str(dump),), follow=False)
    store = Store(settings.database_url)
    tick = Tick(store, settings)
    tick()
    first = create_app(settings)
    second = create_app(settings)
    assert first.test_client().get("/").status_code == 200
    # An item more, ingested without the scheduler (`feeds ingest`): no summary is left.
    text = dump.read_text(encoding="utf-8")
    dump.write_text(
        text.replace("\n", "\nA new item on taxes 11.01.2026\nIts body.\n", 1), encoding="utf-8"
    )
    tick.ingester.run([str(dump)])
    assert (
        store.get_rendered(summary_key(pages_fingerprint(settings)), store.content_version())
        is None
    )
    scans = aggregate_statements(first.extensions["feeds"].store)
    assert "20 items" in first.test_client().get("/").text  # counted here...
    assert scans
    saved = store.get_rendered(summary_key(pages_fingerprint(settings)), store.content_version())
    assert saved is not None and Summary.from_json(saved["body"]).items == 20
    others = aggregate_statements(second.extensions["feeds"].store)
    assert "20 items" in second.test_client().get("/").text  # ...and read there
    assert others == []
    store.close()
