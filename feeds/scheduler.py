"""The scheduler: the only user of APScheduler. It only ticks and hands the work over.

Every INGEST_INTERVAL one job re-ingests the configured dumps (skipping files whose bytes
did not change and URLs that answer 304), then follows due gov.kz links for the rest of
the interval's budget. A job never overlaps itself; a failed run is logged and the next
tick tries again, while the web keeps serving the last good content.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from feeds.following.follow import Follower
from feeds.following.rssread import RssReader
from feeds.ingest import Ingester
from feeds.portal.govkz import Portal
from feeds.publish.catalog import load_agencies
from feeds.publish.fingerprint import pages_fingerprint
from feeds.publish.websub import Publisher, changed_feeds, feed_urls
from feeds.settings import Settings
from feeds.store import Store, Touched

log = logging.getLogger(__name__)
LAST_GOOD_INGEST = "last_good_ingest"
FOLLOW_SHARE = 0.8  # of an interval spent following at most, so ticks never pile up
FOLLOW_LIMIT = 10_000


@dataclass
class Tick:
    """One run of the job: ingest, read the portal's RSS, follow, then tell the WebSub hub
    what changed."""

    store: Store
    settings: Settings
    on_done: list[Callable[[], None]] = field(default_factory=list)
    still_leader: Callable[[], bool] = lambda: True

    def __post_init__(self) -> None:
        self.ingester = Ingester(self.store, self.settings)
        # One client of gov.kz for the RSS and following: one session, one pace, one ticket.
        self.portal = Portal(self.settings)
        self.rss_reader = RssReader(self.store, self.settings, self.ingester.rules, self.portal)
        self.follower = Follower(self.store, self.settings, self.ingester.rules, portal=self.portal)
        self.agencies = load_agencies(self.settings.agencies_file)
        self.touched = Touched()
        self.pages_kept = False  # shared pages of another fingerprint deleted (summarize)

    def __call__(self) -> None:
        if not self.still_leader():
            log.error("scheduler: lost the leader lock (connection gone?); skipping this run")
            return
        self.touched = Touched()
        steps = (("ingest", True), ("rss", self.reads_rss), ("follow", self.settings.follow))
        for run, enabled in steps:
            # A failed ingest (the store down?) ends the tick; the RSS never holds following.
            if enabled and not self._timed(run, getattr(self, run)) and run != "rss":
                break
        if self.touched:
            self._timed("summary", self.summarize)
        if self.settings.websub_hub:
            self._timed("websub", self.publish)
        for callback in self.on_done:
            callback()

    def _timed(self, run: str, work: Callable[[], None]) -> bool:
        """Run one part, record its outcome and duration; a failure is logged, not raised."""
        started = time.monotonic()
        ok = True
        try:
            work()
        except Exception as exc:  # the boundary of a run: log it, the next tick retries
            ok = False
            log.exception(
                "scheduled %s failed (%s); retrying at the next tick", run, exc.__class__.__name__
            )
        try:
            self.store.record_run(run, ok, time.monotonic() - started, datetime.now(UTC))
        except Exception:  # the store may be what failed; the log above says so
            log.warning("scheduled %s: could not record the run's outcome", run)
        return ok

    def ingest(self) -> None:
        reports = self.ingester.run(self.settings.dumps, skip_unchanged=True)
        for report in reports:
            self.touched.add(report.counts.touched)
            if report.error:
                log.error("ingest %s", report.error)
            elif report.skipped:
                log.info("ingest %s: unchanged, skipped", report.source)
            else:
                c = report.counts
                log.info(
                    "ingest %s: %d found, %d new, %d updated, %d unchanged, %d problems",
                    report.source,
                    c.found,
                    c.new,
                    c.updated,
                    c.unchanged,
                    len(report.problems),
                )
                for problem in report.problems:
                    log.warning("ingest problem %s", problem)
        if reports and not all(r.error for r in reports):
            self.store.put_state(LAST_GOOD_INGEST, datetime.now(UTC).isoformat())

    @property
    def reads_rss(self) -> bool:
        return self.settings.follow and self.settings.rss != ()

    def rss(self) -> None:
        report = self.rss_reader.run()
        self.touched.add(report.touched)
        log.info("rss: %s", report.line())

    def follow(self) -> None:
        report = self.follower.run(
            limit=FOLLOW_LIMIT, budget=self.settings.ingest_interval * FOLLOW_SHARE
        )
        self.touched.add(report.touched)
        if report.attempted or report.host_paused_until is None:
            summary, *details = report.lines(slowest=3)
            log.info("follow: %s", summary)
            for line in details:
                log.debug("follow: %s", line)  # each failure was logged as a warning already
        else:
            why = f": {report.pause_reason}" if report.pause_reason else ""
            log.info("follow: gov.kz paused until %s%s", report.host_paused_until.isoformat(), why)

    def summarize(self) -> None:
        """Compute the aggregates behind the index and the OPML once, here, after a change,
        so no web worker scans the store for them on a reader's request."""
        fingerprint = pages_fingerprint(self.settings)  # as the web's, so they read this one
        if not self.pages_kept:  # once, as a web process does when it starts
            self.store.keep_pages_of(fingerprint)
            self.pages_kept = True
        self.store.shared_summary(fingerprint)

    def publish(self) -> None:
        """Ping the WebSub hub for exactly the feeds this run changed."""
        if not self.touched:
            return
        if not self.settings.site_url:
            log.warning("websub: WEBSUB_HUB is set but SITE_URL is empty; nothing published")
            return
        urls = feed_urls(changed_feeds(self.touched, self.agencies), self.settings.site_url)
        Publisher(self.settings.websub_hub, self.settings.fetch_timeout).publish(urls)


@dataclass
class Leadership:
    """Wait for the store's leader lock, then run the scheduler: exactly one scheduler runs
    against a store however many processes start one; when the leader dies its lock goes
    with it and a waiting one takes over at its next try."""

    store: Store
    settings: Settings
    poll: float = 5.0
    scheduler: BaseScheduler | None = None

    def __post_init__(self) -> None:
        self.lock = self.store.leader_lock()
        self.poll = min(self.poll, self.settings.ingest_interval / 4)
        self.stopping = threading.Event()

    def wait_for_lock(self) -> bool:
        """Block until this process leads (True) or `stop()` was called (False)."""
        told = False
        while not self.stopping.is_set():
            if self.lock.try_acquire():
                log.info(
                    "scheduler: this process leads; ingesting every %g s",
                    self.settings.ingest_interval,
                )
                return True
            if not told:
                log.info("scheduler: another process leads; waiting to take over")
                told = True
            self.stopping.wait(self.poll)
        return False

    def run_blocking(self) -> None:
        if self.wait_for_lock():
            self.scheduler = build_scheduler(self.tick(), blocking=True)
            self.scheduler.start()

    def tick(self) -> Tick:
        # Re-taking a held session lock is a no-op that fails if the session is gone.
        return Tick(self.store, self.settings, still_leader=self.lock.try_acquire)

    def stop(self) -> None:
        self.stopping.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.lock.release()


def build_scheduler(tick: Tick, *, blocking: bool) -> BaseScheduler:
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
    )
    scheduler.add_job(
        tick,
        "interval",
        seconds=tick.settings.ingest_interval,
        id="ingest-and-follow",
        next_run_time=datetime.now(UTC),  # a first run at start
        max_instances=1,  # never two ingests at once
        coalesce=True,  # missed ticks (a long run) collapse into one
        misfire_grace_time=None,
    )
    return scheduler
