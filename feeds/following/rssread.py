"""Reading the portal's official RSS (issue 27), the scheduler's step between the ingest of
the dumps and following: each agency's feed in en, ru and kk, at most every RSS_INTERVAL,
conditionally (ETag / Last-Modified, 304), through the process's one `Portal`.

A feed that fails (404 for an agency, bad XML, too large, too slow) is charged to that feed:
its failures in a row and the reason are stored, it is read again after a back-off, and the
other feeds, the dumps and following go on. Only a host that cannot be reached at all, or
that asks us to wait (429/503), ends the run's reading early.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from feeds.dumps.records import ItemRecord
from feeds.dumps.rss import RSS_LANGUAGES, RssFeed, parse_rss, rss_feed
from feeds.errors import FetchError, HostUnreachable, SourceError
from feeds.portal.enrich import backoff, retry_after
from feeds.portal.govkz import Portal
from feeds.portal.http import Answer
from feeds.settings import RSS_FROM_DUMPS, Settings
from feeds.store import SourceState, Store, Touched
from feeds.text.classify import TopicRules
from feeds.text.search_terms import release_terms

log = logging.getLogger(__name__)
ACCEPT = "application/rss+xml, application/xml;q=0.9, text/xml;q=0.8"


@dataclass
class RssReport:
    read: int = 0  # feeds answered 200
    unchanged: int = 0  # 304
    failed: int = 0
    new: int = 0  # versions the RSS brought first
    retimed: int = 0  # versions that took the RSS's exact time
    errors: list[str] = field(default_factory=list)
    touched: Touched = field(default_factory=Touched)
    stopped: str = ""  # why the run ended before its last feed

    def line(self) -> str:
        return (
            f"{self.read} read, {self.unchanged} unchanged (304), {self.failed} failed; "
            f"{self.new} new, {self.retimed} timed"
            + (f"; stopped: {self.stopped}" if self.stopped else "")
        )


class _HostStops(Exception):
    """The host cannot be reached or asked us to wait: no more feeds this run."""


class RssReader:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        rules: TopicRules,
        portal: Portal | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.settings, self.rules = store, settings, rules
        self.portal = portal or Portal(settings)
        self.now = now

    def agencies(self) -> list[str]:
        """RSS: every agency the stored dumps name (`dumps`), the listed ones, or none."""
        if not self.settings.follow:
            return []
        if self.settings.rss == RSS_FROM_DUMPS:
            return sorted(self.store.agency_slugs())
        return list(self.settings.rss)

    def feeds(self) -> Iterable[RssFeed]:
        for agency in self.agencies():
            for lang in RSS_LANGUAGES:
                yield rss_feed(self.settings.govkz_base_url, agency, lang)

    def run(self) -> RssReport:
        report = RssReport()
        for feed in self.feeds():
            # Read once a feed: what its last read left, and its failures in a row.
            last = _Last(self.store.source_state(feed.url), self.store.rss_failure(feed.url))
            if not self._due(last):
                continue
            try:
                self._read(feed, last, report)
            except _HostStops as exc:
                report.stopped = str(exc)
                log.warning("rss: %s; the other feeds are read at the next run", exc)
                break
        return report

    def _due(self, last: "_Last") -> bool:
        """Read at most every RSS_INTERVAL; a failing feed after its back-off."""
        now = self.now()
        next_read = last.failure.get("next_read")
        if next_read and datetime.fromisoformat(next_read) > now:
            return False
        if last.state is None or last.state.last_ingest is None:
            return True
        return last.state.last_ingest + timedelta(seconds=self.settings.rss_interval) <= now

    def _read(self, feed: RssFeed, last: "_Last", report: RssReport) -> None:
        headers = {"Accept": ACCEPT}
        if last.state and last.state.etag:
            headers["If-None-Match"] = last.state.etag
        if last.state and last.state.last_modified:
            headers["If-Modified-Since"] = last.state.last_modified
        try:
            answer = self.portal.get(feed.url, headers)
        except HostUnreachable as exc:
            raise _HostStops(f"{feed.url}: {exc}") from None
        except FetchError as exc:
            self._charge(feed, last, str(exc), report)
            return
        if answer.status in (429, 503):
            wait = retry_after(answer.headers.get("Retry-After"), self.now())
            self._charge(feed, last, f"HTTP {answer.status}", report, wait)
            raise _HostStops(f"{feed.url}: HTTP {answer.status}")
        if answer.status == 304:  # the same validators: read again after RSS_INTERVAL
            self.store.note_rss_read(feed.url, self.now(), clear_failure=bool(last.failure))
            report.unchanged += 1
            return
        if answer.status != 200:
            self._charge(feed, last, f"HTTP {answer.status}", report)
            return
        try:
            records, problems = parse_rss(answer.body, feed)
        except SourceError as exc:
            self._charge(feed, last, str(exc).removeprefix(f"{feed.url}: "), report)
            return
        for problem in problems:
            log.warning("rss problem %s", problem)
        self._write(feed, records, answer, last, report)

    def _write(
        self,
        feed: RssFeed,
        records: list[ItemRecord],
        answer: Answer,
        last: "_Last",
        report: RssReport,
    ) -> None:
        counts = self.store.write_rss(
            feed.url,
            records,
            self.now(),
            topics_of=self.rules.topics_of,
            languages=self.settings.languages,
            terms_of=release_terms,
            validators={
                "etag": answer.headers.get("ETag"),
                "last_modified": answer.headers.get("Last-Modified"),
            },
        )
        if last.failure:
            self.store.put_rss_failure(feed.url, {})
        report.read += 1
        report.new += counts.new
        report.retimed += counts.updated
        report.touched.add(counts.touched)
        log.info(
            "rss %s: %d entries, %d new, %d timed",
            feed.url,
            counts.found,
            counts.new,
            counts.updated,
        )

    def _charge(
        self,
        feed: RssFeed,
        last: "_Last",
        reason: str,
        report: RssReport,
        wait: timedelta | None = None,
    ) -> None:
        """The failure is the feed's: counted, stored with its reason, read after a back-off."""
        failures = int(last.failure.get("failures", 0)) + 1
        wait = wait or max(backoff(failures), timedelta(seconds=self.settings.rss_interval))
        next_read = self.now() + wait
        self.store.put_rss_failure(
            feed.url,
            {
                "failures": failures,
                "reason": reason,
                "at": self.now().isoformat(),
                "next_read": next_read.isoformat(),
            },
        )
        report.failed += 1
        report.errors.append(f"{feed.url}: {reason}")
        log.warning(
            "rss %s: %s (failed %d in a row; next read %s)",
            feed.url,
            reason,
            failures,
            next_read.isoformat(),
        )


@dataclass(frozen=True)
class _Last:
    """What the store knows of a feed before it is read: its source state (validators, last
    read) and its failures in a row ({} when it did not fail)."""

    state: SourceState | None
    failure: dict[str, Any]
