"""A failure is charged to what failed (issue 13): a stalled, reset or failing article backs
off that article and the run goes on; the whole host pauses only when it is down, when it
asks (429/503), or when several different articles fail in a row. Every request, retries
included, waits for FOLLOW_RATE. Against a threaded HTTP server on 127.0.0.1 (tests/fake_portal.py).
"""

import itertools
import os
import re
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import feeds.following.follow
from feeds.following.follow import HOST_PAUSE, Follower
from feeds.ingest import Ingester
from feeds.portal.enrich import RETRY_FIRST, api_url
from feeds.settings import Settings
from feeds.store import Store
from feeds.web.app import create_app
from tests.conftest import PROJECT, SAMPLE_DUMPS, wait_for
from tests.fake_portal import RESET, STALL, Behaviour, FakePortal, Reply, news_json
from tests.runs.test_gunicorn import free_port

# The sample items with a news link, in the order they become due (dump order).
DUE = (
    "1139165", "1139161", "1139146", "1139148", "1139152", "1139153", "1139136", "1139138",
    "1139110", "1139071", "1139072", "1138993", "1139304", "1138983", "1138873", "1138878",
    "1138966", "1138969", "1129425", "1129386", "1129384", "1129385", "1129377", "1129374",
    "1129452", "1129367", "1129341", "1129353", "1129318", "1129305", "1129250", "1129267",
    "1129274",
)  # fmt: skip
TIMEOUT = 0.4


def faults(table: dict[str, object]) -> Behaviour:
    """A portal answering every article well except those in `table` (id -> STALL, RESET,
    a Reply, or a list of replies given in turn, the last one for good)."""

    def behaviour(news_id: str, asked: int, lang: str) -> Reply | str:
        fault = table.get(news_id)
        if isinstance(fault, list):
            fault = fault[min(asked, len(fault) - 1)]
        return news_json(news_id) if fault is None or fault == "ok" else fault  # type: ignore[return-value]

    return behaviour


@pytest.fixture
def store(sample_store: Store) -> Store:
    return sample_store


def follower(store: Store, settings: Settings, portal: str, **changes: object) -> Follower:
    changes = {"fetch_timeout": TIMEOUT, "follow_rate": 50.0, **changes}
    settings = replace(settings, govkz_base_url=portal, **changes)
    return Follower(store, settings, Ingester(store, settings).rules)


def state(store: Store, news_id: str) -> dict:
    (row,) = [r for r in store.item_rows() if r["govkz_id"] == news_id]
    return store.follow_state(row["id"])


def status_of(store: Store) -> dict[str, str]:
    return {news_id: state(store, news_id)["status"] for news_id in DUE}


def test_a_stalled_article_is_charged_to_itself(store: Store, settings: Settings) -> None:
    stalled = DUE[0]  # the longest waiting: it used to be asked first by every run, for good
    with FakePortal(faults({stalled: STALL})) as portal:
        started = datetime.now(UTC)
        report = follower(store, settings, portal.url).run(limit=1000)
        assert (report.attempted, report.changed, report.failed) == (33, 32, 1)
        assert report.host_paused_until is None and store.get_state(HOST_PAUSE) is None
        failed = state(store, stalled)
        url = api_url(portal.url, stalled)
        assert (failed["status"], failed["attempts"], failed["last_error"]) == (
            "failed",
            1,
            f"{url}: timed out",
        )
        assert started + RETRY_FIRST <= failed["next_try"] <= datetime.now(UTC) + RETRY_FIRST
        assert status_of(store) == {i: "failed" if i == stalled else "ok" for i in DUE}
        assert len(portal.asked(stalled)) == 1
        assert follower(store, settings, portal.url).run().attempted == 0  # not due yet


def test_resets_and_5xx_are_charged_to_their_article(store: Store, settings: Settings) -> None:
    reset, broken, flaky = DUE[3], DUE[10], DUE[20]
    table = {reset: RESET, broken: Reply(500), flaky: [Reply(500), Reply(502), "ok"]}
    with FakePortal(faults(table)) as portal:
        report = follower(store, settings, portal.url).run(limit=1000)
        assert (report.attempted, report.changed, report.failed) == (33, 31, 2)
        assert report.host_paused_until is None
        assert [len(portal.asked(i)) for i in (reset, broken, flaky)] == [1, 3, 3]
    for news_id, error in ((reset, "connection reset"), (broken, "HTTP 500")):
        failed = state(store, news_id)
        url = api_url(portal.url, news_id)
        assert (failed["status"], failed["attempts"], failed["last_error"]) == (
            "failed",
            1,
            f"{url}: {error}",
        )
    assert state(store, flaky)["status"] == "ok"


def test_every_request_waits_for_the_rate_limit(store: Store, settings: Settings) -> None:
    """Retries of a 5xx included: urllib3 used to send them at once."""
    table = {DUE[1]: [Reply(500), Reply(504), "ok"], DUE[2]: [Reply(502), "ok"]}
    with FakePortal(faults(table)) as portal:
        report = follower(store, settings, portal.url, follow_rate=5.0).run(limit=4)
        assert (report.attempted, report.changed) == (4, 4)
        arrivals = [r.at for r in portal.requests]
        assert [r.news_id for r in portal.requests] == [
            DUE[0], DUE[1], DUE[1], DUE[1], DUE[2], DUE[2], DUE[3],
        ]  # fmt: skip
        gaps = [b - a for a, b in itertools.pairwise(arrivals)]
        assert min(gaps) >= 1 / 5.0, gaps
        # The quick retries wait 0.5 s, then 1 s, when that is longer than the rate limit.
        assert gaps[1] >= 0.5 and gaps[2] >= 1.0 and gaps[4] >= 0.5


def test_different_articles_failing_in_a_row_pause_the_host(
    store: Store, settings: Settings
) -> None:
    table = {DUE[0]: STALL, DUE[1]: RESET, DUE[2]: Reply(500)}
    with FakePortal(faults(table)) as portal:
        started = datetime.now(UTC)
        report = follower(store, settings, portal.url).run(limit=1000)
        assert (report.attempted, report.failed) == (3, 3)
        assert started + RETRY_FIRST <= report.host_paused_until <= datetime.now(UTC) + RETRY_FIRST
        assert report.pause_reason == (
            f"3 different items failed in a row (last: {api_url(portal.url, DUE[2])}: HTTP 500)"
        )
        assert store.get_state(HOST_PAUSE) == report.host_paused_until.isoformat()
        assert portal.asked(DUE[3]) == []
        assert [state(store, i)["attempts"] for i in DUE[:4]] == [1, 1, 1, 0]


def test_an_answer_in_between_means_the_host_is_up(store: Store, settings: Settings) -> None:
    """A 404 or bad JSON is the article's fault: the host answered, the streak restarts."""
    table = {
        DUE[0]: STALL,
        DUE[1]: RESET,
        DUE[2]: Reply(404),
        DUE[3]: STALL,
        DUE[4]: Reply(200, b"{not json"),
        DUE[5]: RESET,
        DUE[6]: Reply(502),
    }
    with FakePortal(faults(table)) as portal:
        report = follower(store, settings, portal.url).run(limit=1000)
    assert (report.attempted, report.changed, report.failed, report.gone) == (33, 26, 7, 1)
    assert report.host_paused_until is None


def test_the_host_pauses_when_down_and_resumes_after(store: Store, settings: Settings) -> None:
    port = free_port()
    down = follower(store, settings, f"http://127.0.0.1:{port}")
    started = datetime.now(UTC)
    report = down.run(limit=1000)
    assert (report.attempted, report.failed) == (1, 0)
    assert report.pause_reason.endswith(": cannot connect: connection refused")
    assert report.lines()[0] == (
        f"1 followed in {report.seconds:.1f} s: 0 changed, 0 unchanged, 0 failed (0 gone), "
        "1 met gov.kz unavailable"
    )
    assert report.reasons() == {}  # waiting for the host is no item's failure
    assert started + RETRY_FIRST <= report.host_paused_until <= datetime.now(UTC) + RETRY_FIRST
    assert state(store, DUE[0])["attempts"] == 0  # the host's fault, not the article's
    assert down.run().attempted == 0  # paused
    with FakePortal(faults({}), port=port) as portal:
        assert down.run().attempted == 0 and portal.requests == []  # still paused
        down.now = lambda: datetime.now(UTC) + RETRY_FIRST + timedelta(seconds=1)  # later on
        resumed = down.run(limit=1000)
    assert (resumed.attempted, resumed.changed, resumed.host_paused_until) == (33, 33, None)


def test_failing_articles_go_behind_the_never_tried(store: Store, settings: Settings) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=3)
    for news_id, times in ((DUE[0], 2), (DUE[5], 1), (DUE[9], 3)):
        for _ in range(times):
            (row,) = [r for r in store.item_rows() if r["govkz_id"] == news_id]
            store.save_follow_failure(row["id"], "failed", "earlier failure", long_ago)
    ids = {r["id"]: r["govkz_id"] for r in store.item_rows()}
    due = [ids[d.item_id] for d in store.due_follows(datetime.now(UTC), 100)]
    fresh = [i for i in DUE if i not in (DUE[0], DUE[5], DUE[9])]
    assert due == [*fresh, DUE[5], DUE[0], DUE[9]]  # then fewest failures first
    assert [ids[d.item_id] for d in store.due_follows(datetime.now(UTC), 31)] == [*fresh, DUE[5]]


def test_a_run_reads_due_items_until_its_budget_is_spent(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeds.following.follow, "BATCH", 5)
    with FakePortal(faults({})) as portal:
        everything = follower(store, settings, portal.url).run(limit=10_000)
        assert everything.attempted == 33  # seven batches of due items in one run
        now = [0.0]  # a clock that moves only when the follower sleeps for the rate limit
        timed = follower(store, settings, portal.url, follow_rate=10.0)
        timed.clock, timed.sleep = (lambda: now[0]), (lambda s: now.__setitem__(0, now[0] + s))
        for row in store.item_rows():
            if row["govkz_id"]:
                store.save_follow_failure(row["id"], "pending", "", datetime.now(UTC))
        report = timed.run(limit=10_000, budget=0.45)
    # Asked at 0.0, 0.1, ... 0.5 (the last one started within the budget).
    assert report.attempted == 6


def test_follow_command_shows_outcomes_slowest_and_failing(tmp_path: Path) -> None:
    database = tmp_path / "cli.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")},
        "FEEDS_DATABASE_URL": f"sqlite:///{database}",
        "FEEDS_FETCH_TIMEOUT": str(TIMEOUT),
        "FEEDS_FOLLOW_RATE": "50",
    }
    subprocess.run([sys.executable, "-m", "feeds", "ingest"], env=env, check=True, timeout=60)
    with FakePortal(faults({DUE[2]: STALL, DUE[7]: RESET, DUE[8]: Reply(404)})) as portal:
        env["FEEDS_GOVKZ_BASE_URL"] = portal.url
        done = subprocess.run(
            [sys.executable, "-m", "feeds", "follow"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.fullmatch(
        r"33 followed in \d+\.\d s: 30 changed, 0 unchanged, 3 failed \(1 gone\)", lines[0]
    )
    assert lines[1] == "failures: 1 timed out, 1 connection reset, 1 HTTP 404"
    assert lines[2] == "slowest:"
    assert re.fullmatch(
        rf" +0\.[45]\d s  {re.escape(api_url(portal.url, DUE[2]))}  timed out", lines[3]
    )
    assert len(lines[3:8]) == 5 and lines[8] == "failing:"
    assert lines[9:] == [
        f"  {api_url(portal.url, DUE[2])}: timed out",
        f"  {api_url(portal.url, DUE[7])}: connection reset",
        f"  {api_url(portal.url, DUE[8])}: HTTP 404",
    ]


def test_health_and_metrics_count_follow_states(store: Store, settings: Settings) -> None:
    client = create_app(settings).test_client()
    before = client.get("/healthz").json["follow"]
    assert 0 <= before.pop("oldest_pending_seconds") < 60
    assert before == {"pending": 33, "ok": 0, "failing": 0, "gone": 0, "paused": None}
    with FakePortal(faults({DUE[0]: STALL, DUE[1]: Reply(410)})) as portal:
        follower(store, settings, portal.url).run(limit=1000)
    assert client.get("/healthz").json["follow"] == {
        "pending": 0,
        "ok": 31,
        "failing": 1,
        "gone": 1,
        "oldest_pending_seconds": None,
        "paused": None,
    }
    metrics = client.get("/metrics").get_data(as_text=True)
    for line in (
        'feeds_follow_items{state="pending"} 0.0',
        'feeds_follow_items{state="ok"} 31.0',
        'feeds_follow_items{state="failing"} 1.0',
        'feeds_follow_items{state="gone"} 1.0',
        "feeds_follow_oldest_pending_seconds 0.0",
        'feeds_follow_paused{reason=""} 0.0',
    ):
        assert line in metrics.splitlines(), line


# -- the operator's scenario: `feeds schedule` against a portal with every fault --------------

INTERVAL, RATE, RETRY_AFTER = 5, 5.0, 60
STALLED, FLAKY, THROTTLED, RESETS = DUE[1], DUE[4], DUE[6], DUE[12]


@pytest.mark.slow
def test_scheduled_following_finishes_despite_faults(tmp_path: Path) -> None:
    """One article stalls on every request, one answers 500 twice, one 429 with Retry-After
    once, one resets the connection: within a few ticks every other article is enriched."""
    table = {
        STALLED: STALL,
        FLAKY: [Reply(500), Reply(500), "ok"],
        THROTTLED: [Reply(429, b"slow down", (("Retry-After", str(RETRY_AFTER)),)), "ok"],
        RESETS: RESET,
    }
    database = f"sqlite:///{tmp_path / 'feeds.sqlite3'}"
    with FakePortal(faults(table)) as portal:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")},
            "FEEDS_DATABASE_URL": database,
            "FEEDS_DUMPS": ",".join(map(str, SAMPLE_DUMPS)),
            "FEEDS_GOVKZ_BASE_URL": portal.url,
            "FEEDS_INGEST_INTERVAL": str(INTERVAL),
            "FEEDS_FOLLOW_RATE": str(RATE),
            "FEEDS_FETCH_TIMEOUT": "1",
        }
        store = Store(database)  # migrated before the scheduler starts
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "feeds", "schedule"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            others = set(DUE) - {STALLED, RESETS}
            # The 429 pauses the host for 60 s; then a tick or two finishes the rest.
            enriched = wait_for(lambda: _all_ok(store, others), RETRY_AFTER + 8 * INTERVAL)
        finally:
            scheduler.send_signal(signal.SIGTERM)
            _, log = scheduler.communicate(timeout=30)
        assert enriched, (status_of(store), log.decode()[-3000:])
        assert len(portal.asked(STALLED)) <= 3 and state(store, STALLED)["attempts"] <= 3
        assert state(store, RESETS)["status"] == "failed"
        assert len(portal.asked(FLAKY)) == 3
        (throttled, *after) = [r for r in portal.requests if r.news_id == THROTTLED]
        assert len(after) == 1
        gap_after_429 = min(r.at for r in portal.requests if r.at > throttled.at) - throttled.at
        assert gap_after_429 >= RETRY_AFTER, gap_after_429
        arrivals = [r.at for r in portal.requests]
        assert min(b - a for a, b in itertools.pairwise(arrivals)) >= 1 / RATE
        store.close()


def _all_ok(store: Store, news_ids: set[str]) -> bool:
    rows = [r for r in store.item_rows() if r["govkz_id"] in news_ids]
    states = [store.follow_state(r["id"]) for r in rows]
    return len(states) == len(news_ids) and all(s["status"] == "ok" for s in states)
