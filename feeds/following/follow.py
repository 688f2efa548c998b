"""Following gov.kz links, politely (SPEC section 8).

Each due item's news id is asked of the portal's JSON API at GOVKZ_BASE_URL, and nowhere
else: the URL is built from a numeric id, redirects are followed only within that origin.

A failure is charged to what failed. A timeout, a reset, a 5xx or a bad answer backs off
that item (its attempts and next try, stored) and the run goes on with the next one. The
whole host is paused only when the whole host is failing: no connection can be made (refused,
DNS, connect timeout), or STREAK different items in a row failed with timeouts, resets or
5xx; or when it asks for it (429/503 with Retry-After). Every request, retries and redirects
included, waits for the rate limit.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

from feeds.dumps.records import LANGUAGE_SAMPLE
from feeds.errors import AnswerTooLarge, FetchError, HostUnreachable, PortalRefuses, TicketRefused
from feeds.portal.enrich import (
    GONE_RETRY,
    BadAnswer,
    Enrichment,
    api_url,
    backoff,
    parse_answer,
    retry_after,
)
from feeds.portal.govkz import Portal
from feeds.portal.http import Answer, ApiClient
from feeds.settings import Settings
from feeds.store import PAUSED_UNTIL, DueFollow, Store, Touched
from feeds.text.classify import TopicRules
from feeds.text.language import detect_language
from feeds.text.links import split_url

log = logging.getLogger(__name__)
HOST_PAUSE = PAUSED_UNTIL
LAST_FOLLOW = "last_follow"
MAX_REDIRECTS = 3
GONE_STATUSES = {400, 403, 404, 410}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
RETRIED_STATUSES = {500, 502, 504}  # asked again at once (after the rate limit), twice
SERVER_RETRIES = 2
RETRY_PAUSE = 0.5  # seconds before the first quick retry of a 5xx, doubled for the next
STREAK = 3  # different items failing in a row (timeouts, resets, 5xx): the host is failing
REFUSALS = 3  # different items refused in a row with a fresh ticket: the portal refuses us
BATCH = 100  # due items read at a time; a run reads again until its limit or budget


@dataclass(frozen=True)
class Attempt:
    """One item asked in a run: how long it took and how it ended."""

    url: str
    seconds: float
    outcome: str  # changed, unchanged, failed, gone, or paused (the host unavailable)
    reason: str = ""


@dataclass
class FollowReport:
    attempted: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0  # every failure, the gone ones included
    gone: int = 0
    host_paused_until: datetime | None = None
    pause_reason: str = ""
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    touched: Touched = field(default_factory=Touched)

    def add(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        self.attempted += 1
        if attempt.outcome in ("changed", "unchanged"):
            setattr(self, attempt.outcome, getattr(self, attempt.outcome) + 1)
            return
        if attempt.outcome == "paused":  # the host's trouble, no item's failure
            return
        self.failed += 1
        self.gone += attempt.outcome == "gone"
        self.errors.append(f"{attempt.url}: {attempt.reason}")

    def reasons(self) -> Counter[str]:
        """Failures by reason ("timed out", "HTTP 500", ...), most frequent first."""
        return Counter(a.reason for a in self.attempts if a.outcome in ("failed", "gone"))

    def slowest(self, count: int = 5) -> list[Attempt]:
        return sorted(self.attempts, key=lambda a: a.seconds, reverse=True)[:count]

    def lines(self, slowest: int = 5) -> list[str]:
        """What an operator needs to see of a run: counts per outcome, failures by reason,
        the slowest items and every failing one with its URL and reason, a pause of the host."""
        paused = sum(attempt.outcome == "paused" for attempt in self.attempts)
        lines = [
            f"{self.attempted} followed in {self.seconds:.1f} s: {self.changed} changed, "
            f"{self.unchanged} unchanged, {self.failed} failed ({self.gone} gone)"
            + (f", {paused} met gov.kz unavailable" if paused else "")
        ]
        if reasons := self.reasons():
            lines.append("failures: " + ", ".join(f"{n} {why}" for why, n in reasons.most_common()))
        if self.attempts:
            lines.append("slowest:")
            for attempt in self.slowest(slowest):
                outcome = attempt.reason or attempt.outcome
                lines.append(f"  {attempt.seconds:6.2f} s  {attempt.url}  {outcome}")
        if self.errors:
            lines.append("failing:")
            lines += [f"  {error}" for error in self.errors]
        if self.host_paused_until:
            why = f": {self.pause_reason}" if self.pause_reason else ""
            lines.append(f"gov.kz paused until {self.host_paused_until.isoformat()}{why}")
        return lines


class HostUnavailable(Exception):
    """The host cannot be reached or asked us to wait: stop asking it for now."""

    def __init__(self, message: str, wait: timedelta) -> None:
        super().__init__(message)
        self.wait = wait


class ItemFailed(Exception):
    """This item's request failed; `transient` when it says something about the host's
    health (a timeout, a reset, a 5xx) rather than about the item (404, bad JSON)."""

    def __init__(
        self, message: str, status: str, next_try: datetime | None, *, transient: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.next_try = next_try
        self.transient = transient


class Follower:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        rules: TopicRules,
        *,
        client: ApiClient | None = None,
        portal: Portal | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.settings = settings
        self.rules = rules
        self.origin = _origin(settings.govkz_base_url)
        # `clock` paces and times requests; `now` dates what is stored (pauses, next tries).
        self.clock, self.sleep, self.now = clock, sleep, now
        # The process's one client of gov.kz (shared with the RSS reader by the scheduler);
        # a follower of its own otherwise, paced by this follower's clock.
        self.portal = portal or Portal(
            settings, client, clock=lambda: self.clock(), sleep=lambda s: self.sleep(s)
        )
        self._failing: set[int] = set()  # items failing in a row, transiently, across runs
        # Items refused with a fresh ticket, in a row, not charged yet: whose the refusal
        # is, the item's or the portal's, is known only by what the next items get.
        self._refused: list[tuple[DueFollow, str, ItemFailed, float]] = []

    def run(self, limit: int = 100, budget: float | None = None) -> FollowReport:
        """Follow up to `limit` due items, for at most `budget` seconds (all of it, while
        items are due and the host is not paused)."""
        report = FollowReport()
        pause = self.store.follow_pause(self.now())
        if pause is not None:
            report.host_paused_until, report.pause_reason = pause.until, pause.reason
            return report
        started = self.clock()
        for due in self._due(limit):
            if budget is not None and self.clock() - started > budget:
                break
            try:
                self._follow(due, report)
            except HostUnavailable as exc:
                self._pause(exc, report)
                break
        self._charge_refused(report, as_gone=False)
        report.seconds = self.clock() - started
        self.store.put_state(LAST_FOLLOW, self.now().isoformat())
        return report

    def _due(self, limit: int) -> Iterator[DueFollow]:
        """Due items, read again batch after batch so that a run goes on for its whole
        budget; an item at most once a run."""
        seen: set[int] = set()
        while len(seen) < limit:
            batch = self.store.due_follows(self.now(), min(BATCH, limit - len(seen)))
            fresh = [due for due in batch if due.item_id not in seen]
            if not fresh:
                return
            for due in fresh:
                seen.add(due.item_id)
                yield due

    def _pause(self, exc: HostUnavailable, report: FollowReport) -> None:
        until = self.now() + exc.wait
        self.store.put_follow_pause(until, str(exc))
        report.host_paused_until, report.pause_reason = until, str(exc)
        self._failing.clear()
        for _, url, _, seconds in self._refused:  # the portal's refusal: no item's
            report.add(Attempt(url, seconds, "paused", str(exc)))
        self._refused.clear()
        self.portal.ticket = None  # after a pause, a new ticket first
        log.warning("follow: %s; pausing gov.kz requests until %s", exc, until.isoformat())

    def _follow(self, due: DueFollow, report: FollowReport) -> None:
        url = api_url(self.settings.govkz_base_url, due.govkz_id)
        started = self.clock()
        try:
            enrichment = parse_answer(self._get(url, due), due.govkz_id)
        except _Refused as exc:
            self._refused_with_a_fresh_ticket(due, url, exc, self.clock() - started)
            return
        except ItemFailed as exc:
            self._charge(due, url, exc, report, self.clock() - started)
            return
        except BadAnswer as exc:
            failure = ItemFailed(str(exc), "failed", self._later(backoff(due.attempts + 1)))
            self._charge(due, url, failure, report, self.clock() - started)
            return
        except HostUnavailable as exc:
            report.add(Attempt(url, self.clock() - started, "paused", str(exc)))
            raise
        self._failing.clear()
        self._charge_refused(report, as_gone=True)  # others are accepted: theirs alone
        enrichment = self._in_its_language(enrichment, due, url)
        touched = self.store.save_enrichment(
            due.item_id, enrichment, self.now(), self.rules.topics_of
        )
        report.touched.add(touched)
        outcome = "changed" if touched else "unchanged"
        report.add(Attempt(url, self.clock() - started, outcome))

    @staticmethod
    def _in_its_language(enrichment: Enrichment, due: DueFollow, url: str) -> Enrichment:
        """The answer, without its title and body when they are in another language than
        the item's text: the portal answers in the language asked for, or in the one it has,
        and an English item must not turn Kazakh. Its exact time and image still apply."""
        text = f"{enrichment.title}\n{enrichment.body_text[:LANGUAGE_SAMPLE]}"
        if not text.strip() or (answered := detect_language(text)) == due.lang:
            return enrichment
        log.info(
            "follow %s: answered in %s, not %s: only its time and image kept",
            url,
            answered,
            due.lang,
        )
        return replace(enrichment, title="", body_html="")

    def _charge(
        self, due: DueFollow, url: str, exc: ItemFailed, report: FollowReport, seconds: float
    ) -> None:
        """Store the failure on the item; raise HostUnavailable when it makes STREAK
        different items failing in a row for reasons that are the host's."""
        self.store.save_follow_failure(due.item_id, exc.status, f"{url}: {exc}", exc.next_try)
        report.add(Attempt(url, seconds, "gone" if exc.status == "gone" else "failed", str(exc)))
        log.warning("follow %s: %s (next try %s)", url, exc, exc.next_try)
        if not exc.transient:
            self._failing.clear()  # the host answered: it is the item that is wrong
            return
        self._failing.add(due.item_id)
        if len(self._failing) >= STREAK:
            raise HostUnavailable(
                f"{len(self._failing)} different items failed in a row (last: {url}: {exc})",
                backoff(1),
            )

    def _refused_with_a_fresh_ticket(
        self, due: DueFollow, url: str, exc: ItemFailed, seconds: float
    ) -> None:
        """Hold the refusal until it is known whose it is; REFUSALS different items in a
        row make it the portal's: the host is paused for PORTAL_PAUSE, no item charged."""
        self._refused.append((due, url, exc, seconds))
        log.info("follow %s: %s", url, exc)
        if len({held.item_id for held, *_ in self._refused}) >= REFUSALS:
            reason = f"portal refuses the news API: {exc} ({len(self._refused)} items in a row)"
            raise HostUnavailable(reason, timedelta(seconds=self.settings.portal_pause))

    def _charge_refused(self, report: FollowReport, *, as_gone: bool) -> None:
        """Charge the refusals held: as a 403 is (a long back-off) when other items were
        accepted since; as a transient failure when the run ended without telling."""
        for due, url, exc, seconds in self._refused:
            later = GONE_RETRY if as_gone else backoff(due.attempts + 1)
            failure = ItemFailed(str(exc), "gone" if as_gone else "failed", self._later(later))
            self._charge(due, url, failure, report, seconds)
        self._refused.clear()

    def _get(self, url: str, due: DueFollow) -> bytes:
        """The body of a 200 answer, following same-origin redirects and retrying 500, 502
        and 504 twice; raises ItemFailed or HostUnavailable otherwise."""
        redirects = retries = 0
        while True:
            answer = self._request(url, due)
            if answer.status in REDIRECT_STATUSES:
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise ItemFailed("too many redirects", "failed", self._later(GONE_RETRY))
                url = self._redirect_target(url, answer)
            elif answer.status in RETRIED_STATUSES and retries < SERVER_RETRIES:
                self.portal.hold_off(RETRY_PAUSE * 2**retries)
                retries += 1
            else:
                return self._body(url, answer, due.attempts)

    def _request(self, url: str, due: DueFollow) -> Answer:
        headers = {"Accept": "application/json", "Accept-Language": due.lang}
        try:
            return self.portal.news(url, headers)
        except TicketRefused as exc:
            raise _Refused(str(exc), "failed", None) from None
        except PortalRefuses as exc:
            pause = timedelta(seconds=self.settings.portal_pause)
            raise HostUnavailable(f"portal refuses the news API: {exc}", pause) from None
        except HostUnreachable as exc:
            raise HostUnavailable(f"{url}: {exc}", backoff(1)) from None
        except AnswerTooLarge as exc:
            raise ItemFailed(str(exc), "failed", self._later(GONE_RETRY)) from None
        except FetchError as exc:
            next_try = self._later(backoff(due.attempts + 1))
            raise ItemFailed(str(exc), "failed", next_try, transient=True) from None

    def _later(self, wait: timedelta) -> datetime:
        return self.now() + wait

    def _redirect_target(self, url: str, answer: Answer) -> str:
        location = answer.headers.get("Location", "")
        try:
            target = urljoin(url, location)
        except ValueError:  # "https://[x": urlsplit refuses it
            target = ""
        parts = split_url(target) if target else None
        if parts is None:
            raise ItemFailed(
                f"redirect to {location[:200]!r}, not a URL, refused",
                "failed",
                self._later(GONE_RETRY),
            )
        if _origin(target) != self.origin:
            raise ItemFailed(
                f"redirect to another host ({parts.hostname or '?'}) refused",
                "failed",
                self._later(GONE_RETRY),
            )
        return target

    def _body(self, url: str, answer: Answer, attempts: int) -> bytes:
        status = answer.status
        if status == 200:
            return answer.body
        if status in (429, 503):
            wait = retry_after(answer.headers.get("Retry-After"), self.now()) or backoff(1)
            raise HostUnavailable(
                f"{url}: HTTP {status}, asked to wait {int(wait.total_seconds())} s", wait
            )
        if status in GONE_STATUSES:
            next_try = None if status == 410 else self._later(GONE_RETRY)
            raise ItemFailed(f"HTTP {status}", "gone", next_try)
        transient = status >= 500
        next_try = self._later(backoff(attempts + 1))
        raise ItemFailed(f"HTTP {status}", "failed", next_try, transient=transient)


class _Refused(ItemFailed):
    """Refused with a fresh ticket: held until it is known whose the refusal is."""


def _origin(url: str) -> tuple[str, str, int | None] | None:
    parts = split_url(url)
    return None if parts is None else (parts.scheme, (parts.hostname or "").lower(), parts.port)
