"""The scheduler: the only user of APScheduler. It only ticks and hands the work over.

Every INGEST_INTERVAL one job re-ingests the configured dumps (skipping files whose bytes
did not change and URLs that answer 304), then follows due gov.kz links for the rest of
the interval's budget. A job never overlaps itself; a failed run is logged and the next
tick tries again, while the web keeps serving the last good content.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from feeds.follow import Follower
from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.store import Store

log = logging.getLogger(__name__)
LAST_GOOD_INGEST = "last_good_ingest"
FOLLOW_SHARE = 0.8  # of an interval spent following at most, so ticks never pile up
FOLLOW_LIMIT = 10_000


@dataclass
class Tick:
    """One run of the job: ingest, then follow."""

    store: Store
    settings: Settings
    on_done: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ingester = Ingester(self.store, self.settings)
        self.follower = Follower(self.store, self.settings, self.ingester.rules)

    def __call__(self) -> None:
        try:
            self.ingest()
            if self.settings.follow:
                self.follow()
        except Exception as exc:  # the boundary of a run: log it, the next tick retries
            log.exception(
                "scheduled run failed (%s); retrying at the next tick", exc.__class__.__name__
            )
        for callback in self.on_done:
            callback()

    def ingest(self) -> None:
        reports = self.ingester.run(self.settings.dumps, skip_unchanged=True)
        for report in reports:
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

    def follow(self) -> None:
        report = self.follower.run(
            limit=FOLLOW_LIMIT, budget=self.settings.ingest_interval * FOLLOW_SHARE
        )
        if report.attempted or report.host_paused_until is None:
            log.info(
                "follow: %d attempted, %d changed, %d unchanged, %d failed",
                report.attempted,
                report.changed,
                report.unchanged,
                report.failed,
            )
        else:
            log.info("follow: gov.kz paused until %s", report.host_paused_until.isoformat())


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
