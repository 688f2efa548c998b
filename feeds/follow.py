"""Following gov.kz links, politely (SPEC section 8).

Each due item's news id is asked of the portal's JSON API at GOVKZ_BASE_URL, and nowhere
else: the URL is built from a numeric id, redirects are followed only within that origin.
At most FOLLOW_RATE requests a second; Retry-After is honoured by pausing the whole host;
every failure is stored on the item with its next try, and the run goes on.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import requests

from feeds.classify import TopicRules
from feeds.enrich import GONE_RETRY, BadAnswer, api_url, backoff, parse_answer, retry_after
from feeds.errors import SourceError
from feeds.http import describe_error, make_follow_session, read_capped
from feeds.settings import Settings
from feeds.store import DueFollow, Store, Touched

log = logging.getLogger(__name__)
HOST_PAUSE = "follow_host_paused_until"
LAST_FOLLOW = "last_follow"
MAX_REDIRECTS = 3
GONE_STATUSES = {400, 403, 404, 410}


@dataclass
class FollowReport:
    attempted: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    host_paused_until: datetime | None = None
    errors: list[str] = field(default_factory=list)
    touched: Touched = field(default_factory=Touched)


class HostUnavailable(Exception):
    """The host cannot be reached or asked us to wait: stop asking it for now."""

    def __init__(self, message: str, wait: timedelta) -> None:
        super().__init__(message)
        self.wait = wait


class ItemFailed(Exception):
    def __init__(self, message: str, status: str, next_try: datetime | None) -> None:
        super().__init__(message)
        self.status = status
        self.next_try = next_try


class Follower:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        rules: TopicRules,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.settings = settings
        self.rules = rules
        self.session = session or make_follow_session()
        self.origin = _origin(settings.govkz_base_url)
        self.clock, self.sleep = clock, sleep
        self._last_request: float | None = None

    def run(self, limit: int = 100, budget: float | None = None) -> FollowReport:
        """Follow up to `limit` due items, for at most `budget` seconds."""
        report = FollowReport()
        now = datetime.now(UTC)
        paused = self.store.get_state(HOST_PAUSE)
        if paused and datetime.fromisoformat(paused) > now:
            report.host_paused_until = datetime.fromisoformat(paused)
            return report
        started = self.clock()
        for due in self.store.due_follows(now, limit):
            if budget is not None and self.clock() - started > budget:
                break
            try:
                self._follow(due, report)
            except HostUnavailable as exc:
                until = datetime.now(UTC) + exc.wait
                self.store.put_state(HOST_PAUSE, until.isoformat())
                report.host_paused_until = until
                log.warning("follow: %s; pausing gov.kz requests until %s", exc, until.isoformat())
                break
        self.store.put_state(LAST_FOLLOW, datetime.now(UTC).isoformat())
        return report

    def _follow(self, due: DueFollow, report: FollowReport) -> None:
        report.attempted += 1
        url = api_url(self.settings.govkz_base_url, due.govkz_id)
        try:
            enrichment = parse_answer(self._get(url, due.lang, due.attempts), due.govkz_id)
        except ItemFailed as exc:
            report.failed += 1
            report.errors.append(f"{url}: {exc}")
            self.store.save_follow_failure(due.item_id, exc.status, f"{url}: {exc}", exc.next_try)
            log.warning("follow %s: %s (next try %s)", url, exc, exc.next_try)
            return
        except BadAnswer as exc:
            report.failed += 1
            report.errors.append(f"{url}: {exc}")
            next_try = datetime.now(UTC) + backoff(due.attempts + 1)
            self.store.save_follow_failure(due.item_id, "failed", f"{url}: {exc}", next_try)
            log.warning("follow %s: %s (next try %s)", url, exc, next_try)
            return
        touched = self.store.save_enrichment(
            due.item_id, enrichment, datetime.now(UTC), self.rules.topics_of
        )
        report.touched.add(touched)
        report.changed += bool(touched)
        report.unchanged += not touched

    def _pace(self) -> None:
        # One host, one process: a sleep between requests is the whole rate limiter.
        if self._last_request is not None:
            wait = self._last_request + 1 / self.settings.follow_rate - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last_request = self.clock()

    def _get(self, url: str, lang: str, attempts: int) -> bytes:
        """The body of a 200 answer, following same-origin redirects; raises otherwise."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._request(url, lang)
            with response:
                if response.is_redirect:
                    url = self._redirect_target(url, response)
                    continue
                return self._body(url, response, attempts)
        raise ItemFailed("too many redirects", "failed", datetime.now(UTC) + GONE_RETRY)

    def _request(self, url: str, lang: str) -> requests.Response:
        self._pace()
        headers = {"Accept": "application/json", "Accept-Language": lang}
        timeout = self.settings.fetch_timeout
        try:
            return self.session.get(
                url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
            )
        except requests.ConnectionError as exc:
            if isinstance(
                exc, requests.exceptions.ReadTimeout | requests.exceptions.ConnectTimeout
            ):
                raise HostUnavailable(f"{url}: timed out", backoff(1)) from None
            raise HostUnavailable(f"{url}: {describe_error(exc)}", backoff(1)) from None
        except requests.Timeout:
            raise HostUnavailable(f"{url}: timed out", backoff(1)) from None
        except requests.RequestException as exc:
            raise ItemFailed(
                f"request failed: {describe_error(exc)}", "failed", _later(backoff(1))
            ) from None

    def _redirect_target(self, url: str, response: requests.Response) -> str:
        target = urljoin(url, response.headers.get("Location", ""))
        if _origin(target) != self.origin:
            host = urlsplit(target).hostname or "?"
            raise ItemFailed(
                f"redirect to another host ({host}) refused", "failed", _later(GONE_RETRY)
            )
        return target

    def _body(self, url: str, response: requests.Response, attempts: int) -> bytes:
        status = response.status_code
        if status == 200:
            try:
                # FETCH_TIMEOUT bounds the whole answer, not each read of it.
                return read_capped(
                    response, self.settings.follow_max_bytes, url, self.settings.fetch_timeout
                )
            except SourceError as exc:
                raise ItemFailed(
                    str(exc).removeprefix(f"{url}: "), "failed", _later(GONE_RETRY)
                ) from None
            except requests.RequestException as exc:
                raise ItemFailed(
                    f"reading failed: {describe_error(exc)}",
                    "failed",
                    _later(backoff(attempts + 1)),
                ) from None
        if status in (429, 503):
            wait = retry_after(response.headers.get("Retry-After"), datetime.now(UTC)) or backoff(1)
            raise HostUnavailable(
                f"{url}: HTTP {status}, asked to wait {int(wait.total_seconds())} s", wait
            )
        if status in GONE_STATUSES:
            next_try = None if status == 410 else _later(GONE_RETRY)
            raise ItemFailed(f"HTTP {status}", "gone", next_try)
        raise ItemFailed(f"HTTP {status}", "failed", _later(backoff(attempts + 1)))


def _later(wait: timedelta) -> datetime:
    return datetime.now(UTC) + wait


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port
