"""The real portal (issue 27): the news API wants a ticket, tickets expire, some days the
portal refuses everyone, and it publishes official RSS per agency and language. Against a
threaded HTTP server on 127.0.0.1 that behaves so (tests/fake_portal.py), with the sample
dumps in the store.
"""

import itertools
import math
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from feeds.dumps.rss import rss_feed
from feeds.following.follow import Follower
from feeds.following.rssread import RssReader
from feeds.ingest import Ingester
from feeds.portal.govkz import Portal
from feeds.scheduler import Tick
from feeds.settings import Settings
from feeds.store import Store
from feeds.web.app import create_app
from tests.conftest import SAMPLE_DUMPS
from tests.fake_portal import SIGN, FakePortal, RssShelf, TicketDesk, rss_xml
from tests.following.test_follow_faults import DUE, TIMEOUT, faults, status_of
from tests.runs.test_cli import feeds

RATE = 50.0
REFUSAL = "portal refuses the news API: HTTP 400 notAllowed after a fresh ticket (3 items in a row)"


@pytest.fixture
def store(sample_store: Store) -> Store:
    return sample_store


def following(settings: Settings, portal: FakePortal, **changes: object) -> Settings:
    values = {"fetch_timeout": TIMEOUT, "follow_rate": RATE, **changes}
    return replace(settings, govkz_base_url=portal.url, **values)


def follower(store: Store, settings: Settings, **portal_args: object) -> Follower:
    client = Portal(settings, **portal_args)  # type: ignore[arg-type]
    return Follower(store, settings, Ingester(store, settings).rules, portal=client)


def test_with_a_ticket_every_item_is_enriched_and_the_ticket_reused(
    store: Store, settings: Settings
) -> None:
    with FakePortal(faults({}), tickets=TicketDesk(lifetime=45.0)) as portal:
        report = follower(store, following(settings, portal)).run(limit=1000)
        news, tickets = portal.of_kind("news"), portal.of_kind("ticket")
    assert (report.changed, report.failed) == (33, 0)
    assert set(status_of(store).values()) == {"ok"}
    assert len(tickets) == 1  # one ticket for a run far shorter than its life
    assert [r.ticketed for r in news].count(False) == 1  # the first, refused, asked again
    assert len(news) == 34
    # What the ticket's JSON asked for, but never what would change whom or where we ask.
    sent = {name.lower(): value for name, value in news[-1].headers}
    assert sent[SIGN.lower()].startswith("sig-")
    assert sent["host"] == portal.url.removeprefix("http://")
    assert "stolen=1" not in sent["cookie"] and sent["cookie"].startswith("k6=")
    assert "x-count" not in sent and "x-injected" not in sent
    assert sent["user-agent"].startswith("feeds/")


def test_an_expired_ticket_is_renewed_once_and_the_item_asked_again(
    store: Store, settings: Settings
) -> None:
    lifetime = 0.4  # tickets live 0.4 s here; one asked at most every 0.3 s (60 s live)
    with FakePortal(faults({}), tickets=TicketDesk(lifetime=lifetime)) as portal:
        started = time.monotonic()
        report = follower(
            store, following(settings, portal, follow_rate=20.0), ticket_interval=0.3
        ).run(limit=1000)
        elapsed = time.monotonic() - started
        news, tickets = portal.of_kind("news"), portal.of_kind("ticket")
    assert (report.changed, report.failed) == (33, 0)
    assert set(status_of(store).values()) == {"ok"}
    assert 3 <= len(tickets) <= math.ceil(elapsed / lifetime) + 1
    refused = [r for r in news if not r.ticketed]
    assert len(refused) == len(tickets)  # each renewal follows one refusal
    for request in refused:  # ... of an item then asked once more, and answered
        assert [r.ticketed for r in news if r.news_id == request.news_id] == [False, True]


def test_a_portal_that_refuses_everyone_pauses_the_host_and_charges_no_item(
    store: Store, settings: Settings
) -> None:
    desk = TicketDesk(lifetime=45.0)
    desk.refusing.set()
    with FakePortal(faults({}), tickets=desk) as portal:
        settings = following(settings, portal)
        first = follower(store, settings, ticket_interval=0.1)  # a minute, in the test's time
        report = first.run(limit=1000)
        assert report.pause_reason == REFUSAL
        assert "gov.kz paused until" in report.lines()[-1] and REFUSAL in report.lines()[-1]
        asked = len(portal.requests)
        assert asked <= 6  # three items refused (one with its renewal) and one ticket
        health = create_app(settings).test_client().get("/healthz").json["follow"]
        assert health["paused"]["reason"] == REFUSAL
        assert health["pending"] == 33 and health["gone"] == 0  # nobody charged
        metrics = create_app(settings).test_client().get("/metrics").get_data(as_text=True)
        assert f'feeds_follow_paused{{reason="{REFUSAL}"}} 1.0' in metrics
        # During the pause: nothing asked, whoever asks.
        assert first.run(limit=1000).host_paused_until is not None
        assert follower(store, settings).run(limit=1000).attempted == 0
        assert len(portal.requests) == asked
        # The portal opens again, the pause ends: every item that waited is enriched.
        desk.refusing.clear()
        after_pause = datetime.now(UTC) + timedelta(seconds=settings.portal_pause + 1)
        later = Follower(
            store,
            settings,
            Ingester(store, settings).rules,
            portal=first.portal,
            now=lambda: after_pause,
        )
        report = later.run(limit=1000)
    assert (report.changed, report.failed) == (33, 0)
    assert set(status_of(store).values()) == {"ok"}


def test_one_item_refused_while_others_are_accepted_is_that_items(
    store: Store, settings: Settings
) -> None:
    desk = TicketDesk(lifetime=45.0, refused_items=frozenset({DUE[3]}))
    with FakePortal(faults({}), tickets=desk) as portal:
        settings = following(settings, portal)
        report = follower(store, settings, ticket_interval=0.1).run(limit=1000)
        assert len(portal.of_kind("ticket")) == 2  # the refusal asked for a new one, once
    assert report.host_paused_until is None
    assert (report.changed, report.gone) == (32, 1)
    assert status_of(store)[DUE[3]] == "gone"  # a long back-off, as a 403
    assert report.errors == [
        f"{portal.url}/api/v1/public/content-manager/news/{DUE[3]}: "
        "HTTP 400 notAllowed after a fresh ticket"
    ]


@pytest.mark.parametrize(("status", "paused"), [(403, True), (500, True), (404, False)])
def test_a_ticket_endpoint_that_refuses_pauses_and_one_that_is_missing_does_not(
    store: Store, settings: Settings, status: int, paused: bool
) -> None:
    with FakePortal(faults({}), tickets=TicketDesk(endpoint=status)) as portal:
        report = follower(store, following(settings, portal)).run(limit=3)
    if paused:
        reason = (
            "portal refuses the news API: ticket endpoint /api/v1/public/_/c/k6 "
            f"answered HTTP {status}"
        )
        assert (report.pause_reason, report.failed) == (reason, 0)
    else:  # a portal without tickets is followed as before: a 400 backs the item off
        assert report.host_paused_until is None
        assert (report.gone, set(report.reasons())) == (3, {"HTTP 400"})


MFA_ONLY_IN_RSS = "2000001"
MFA_IN_DUMP = "1139153"  # "Kazakh Foreign Ministry and KazMunayGas Discuss ..." (mfa, en)
RSS_TIME = "Fri, 09 Jan 2026 23:30:00 +0500"  # late on the 9th in Almaty


def shelf() -> RssShelf:
    return RssShelf(
        {
            ("mfa", "en"): rss_xml(
                "mfa",
                "en",
                [
                    (MFA_ONLY_IN_RSS, "A release only the RSS has", RSS_TIME),
                    (MFA_IN_DUMP, "Kazakh Foreign Ministry and KazMunayGas", RSS_TIME),
                ],
            ),
            ("kgd-vko", "en"): b"\x00\x01 this is no feed {",
            ("kgd-vko", "kk"): b"<rss>" + b" " * 2_100_000,  # over FOLLOW_MAX_BYTES
            ("mod", "ru"): rss_xml("mod", "ru", [("2000002", "Новость министерства", RSS_TIME)]),
        }
    )


def test_the_official_rss_brings_new_releases_and_exact_times(
    store: Store, settings: Settings
) -> None:
    with FakePortal(faults({}), rss=shelf()) as portal:
        settings = following(settings, portal, rss=("kgd-vko", "mfa", "mod"))
        reader = RssReader(store, settings, Ingester(store, settings).rules)
        first = reader.run()
        assert (first.read, first.new, first.retimed, first.failed) == (2, 2, 1, 7)
        # The second poll sends the validators and is answered 304 (RSS_INTERVAL passed).
        reader.settings = replace(settings, rss_interval=0.001)
        time.sleep(0.01)
        second = RssReader(store, reader.settings, reader.rules).run()
        rss = [r for r in portal.of_kind("rss") if r.path.endswith("/mfa/news/en")]
    assert second.unchanged == 2  # mfa/en and mod/ru
    assert dict(rss[1].headers)["If-None-Match"].startswith('"')
    malformed = store.rss_failure(rss_feed(portal.url, "kgd-vko", "en").url)
    assert malformed["failures"] == 1 and malformed["reason"].startswith("not an RSS feed")
    assert store.rss_failure(rss_feed(portal.url, "mfa", "ru").url)["reason"] == "HTTP 404"
    huge = store.rss_failure(rss_feed(portal.url, "kgd-vko", "kk").url)["reason"]
    assert huge == "body of 2100005 bytes is over the limit of 2000000 bytes"
    client = create_app(settings).test_client()
    for url in ("/all.atom", "/agencies/mfa.atom"):
        feed = feedparser.parse(client.get(url).data)
        links = [entry.link for entry in feed.entries]
        for news_id in (MFA_ONLY_IN_RSS, MFA_IN_DUMP):
            (entry,) = [e for e in feed.entries if e.link.split("?")[0].endswith(news_id)]
            assert entry.published == "2026-01-09T23:30:00+05:00", url  # the RSS's own
            assert sum(link.split("?")[0].endswith(news_id) for link in links) == 1
    rows = {r["govkz_id"]: r for r in store.item_rows()}
    assert rows[MFA_ONLY_IN_RSS]["origins"] == "rss"
    assert rows[MFA_ONLY_IN_RSS]["title"] == "A release only the RSS has"
    assert rows[MFA_ONLY_IN_RSS]["day"].isoformat() == "2026-01-09"
    assert rows[MFA_IN_DUMP]["origins"] == "dump rss"
    assert rows[MFA_IN_DUMP]["title"].startswith("Kazakh Foreign Ministry and KazMunayGas Disc")
    due = {d.govkz_id for d in store.due_follows(datetime.now(UTC), 1000)}
    assert {MFA_ONLY_IN_RSS, "2000002"} <= due  # followed like any other


def test_tickets_rss_and_articles_together_keep_the_rate(store: Store, settings: Settings) -> None:
    rate = 20.0
    with FakePortal(faults({}), tickets=TicketDesk(), rss=shelf()) as portal:
        settings = following(settings, portal, follow_rate=rate, rss=("mfa", "mod"))
        client = Portal(settings)
        rules = Ingester(store, settings).rules
        RssReader(store, settings, rules, client).run()
        Follower(store, settings, rules, portal=client).run(limit=12)
        arrivals = [r.at for r in portal.requests]
        kinds = {r.kind for r in portal.requests}
    assert kinds == {"rss", "ticket", "news"}
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) >= 19 and min(gaps) >= 1 / rate * 0.98


def test_check_and_follow_commands_say_the_portal_refuses_us(tmp_path: Path) -> None:
    database = tmp_path / "cli.sqlite3"
    until = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    feeds("ingest", database=database)
    store = Store(f"sqlite:///{database}")
    store.put_follow_pause(until, REFUSAL)
    store.close()
    check = feeds("check", str(SAMPLE_DUMPS[1]), database=database)
    follow = feeds("follow", database=database)
    line = f"gov.kz paused until 2030-01-01T12:00:00+00:00: {REFUSAL}"
    assert check.returncode == 0 and check.stderr.splitlines()[-1] == line
    assert follow.stdout.splitlines()[-1] == line


def test_rss_command_reads_the_feeds_and_names_the_failing_ones(
    tmp_path: Path,
) -> None:
    database = tmp_path / "cli.sqlite3"
    with FakePortal(faults({}), rss=shelf()) as portal:
        env = {"FEEDS_GOVKZ_BASE_URL": portal.url, "FEEDS_RSS": "mfa,kgd-vko",
               "FEEDS_FOLLOW_RATE": "50"}  # fmt: skip
        feeds("ingest", database=database)
        done = feeds("rss", database=database, env=env)
    base = f"{portal.url}/api/v1/public/rss"
    assert done.stdout.splitlines()[0] == "1 read, 0 unchanged (304), 5 failed; 1 new, 1 timed"
    assert sorted(done.stdout.splitlines()[1:]) == sorted(
        [
            f"  {base}/kgd-vko/news/en: not an RSS feed "
            "(<unknown>:2:0: not well-formed (invalid token))",
            f"  {base}/kgd-vko/news/ru: HTTP 404",
            f"  {base}/kgd-vko/news/kk: body of 2100005 bytes is over the limit of 2000000 bytes",
            f"  {base}/mfa/news/ru: HTTP 404",
            f"  {base}/mfa/news/kk: HTTP 404",
        ]
    )


def test_a_scheduled_tick_reads_the_rss_and_follows_what_it_brought(
    store: Store, settings: Settings
) -> None:
    with FakePortal(faults({}), tickets=TicketDesk(), rss=shelf()) as portal:
        settings = following(settings, portal, rss=("mfa",))
        Tick(store, settings)()
        kinds = [r.kind for r in portal.requests]
    assert kinds[:3] == ["rss", "rss", "rss"]  # after the ingest, before following
    assert kinds.count("ticket") == 1
    rows = {r["govkz_id"]: r for r in store.item_rows()}
    assert store.follow_state(rows[MFA_ONLY_IN_RSS]["id"])["status"] == "ok"
    assert rows[MFA_ONLY_IN_RSS]["origins"] == "api rss"
    assert rows[MFA_IN_DUMP]["origins"] == "api dump rss"
