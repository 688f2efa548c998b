"""The one client of gov.kz (issue 27): every request to the portal (the news API, its
ticket, the official RSS) goes through one `Portal` per process, on one `requests` session
whose cookies it keeps, paced together at FOLLOW_RATE.

The news API wants a ticket (`feeds.portal.ticket`): a news request refused with `notAllowed` asks
for one (POST `{}` to PORTAL_TICKET_PATH, at most once a TICKET_INTERVAL), keeps its cookies
and headers and asks that item again, once. A ticket is reused until the portal refuses it.
What the portal does not hand any client (a browser's JavaScript, tokens guessed or replayed)
we never send: a portal that refuses us is told to the operator, not worked around.
"""

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from feeds.errors import PortalRefuses, TicketRefused
from feeds.portal.http import Answer, ApiClient
from feeds.portal.ticket import BadTicket, is_not_allowed, ticket_headers
from feeds.settings import Settings

log = logging.getLogger(__name__)
TICKET_INTERVAL = 60.0  # seconds: at most one ticket request this often
NO_TICKET_ENDPOINT = {404, 405, 410}  # a portal without tickets: followed as before
NO_TICKET_RECHECK = 3600.0  # seconds before a portal without tickets is asked for one again


class Pacer:
    """At most one request every `1/rate` seconds, counted from the end of the last answer
    (so the host sees the gap too), for every thread of the process. One host, one
    process: a sleep until the next allowed moment is the whole rate limiter (a token-bucket
    library would add a dependency and nothing else)."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.gap = 1 / rate
        self.clock, self.sleep = clock, sleep
        self.next_request = 0.0
        self.lock = threading.Lock()  # held through a request: one at a time per process

    def send(self, request: Callable[[], Answer]) -> Answer:
        with self.lock:
            if (wait := self.next_request - self.clock()) > 0:
                self.sleep(wait)
            try:
                return request()
            finally:
                self.hold_off(self.gap)

    def hold_off(self, seconds: float) -> None:
        self.next_request = max(self.next_request, self.clock() + seconds)


@dataclass
class Ticket:
    headers: dict[str, str]
    at: float  # clock() when it was handed
    accepted: int = 0  # news answers it got that were not refusals


@dataclass
class Portal:
    settings: Settings
    client: ApiClient | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    ticket_interval: float = TICKET_INTERVAL
    ticket: Ticket | None = None
    _last_ticket_request: float | None = field(default=None, repr=False)
    _no_tickets_until: float | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        settings = self.settings
        self.client = self.client or ApiClient(settings.fetch_timeout, settings.follow_max_bytes)
        self.pacer = Pacer(settings.follow_rate, self.clock, self.sleep)
        self.base = settings.govkz_base_url.rstrip("/")

    def get(self, url: str, headers: Mapping[str, str]) -> Answer:
        """One paced GET (the RSS, or anything needing no ticket)."""
        client = self.client
        assert client is not None
        return self.pacer.send(lambda: client.get(url, headers))

    def hold_off(self, seconds: float) -> None:
        """No request before `seconds` from now (a quick retry's pause)."""
        self.pacer.hold_off(seconds)

    def news(self, url: str, headers: Mapping[str, str]) -> Answer:
        """The news API's answer, with a ticket when the portal wants one. Raises
        TicketRefused when refused with a fresh ticket, PortalRefuses when no ticket is to
        be had; a portal without the ticket endpoint answers as it did (a 400 stands)."""
        ticket = self.ticket
        answer = self._news(url, headers, ticket)
        if not is_not_allowed(answer.status, answer.body):
            return answer
        if ticket is not None and ticket.accepted == 0:
            raise TicketRefused(self._refusal(answer, "a fresh ticket"))
        if not self._renew():
            return answer
        answer = self._news(url, headers, self.ticket)
        if is_not_allowed(answer.status, answer.body):
            raise TicketRefused(self._refusal(answer, "a fresh ticket"))
        return answer

    def _news(self, url: str, headers: Mapping[str, str], ticket: Ticket | None) -> Answer:
        sent = {**(ticket.headers if ticket else {}), **headers}
        answer = self.get(url, sent)
        if ticket is not None and not is_not_allowed(answer.status, answer.body):
            ticket.accepted += 1
        return answer

    @staticmethod
    def _refusal(answer: Answer, after: str) -> str:
        return f"HTTP {answer.status} notAllowed after {after}"

    def _renew(self) -> bool:
        """Ask for a ticket (waiting for TICKET_INTERVAL since the last ask): True when one
        was handed, False when the portal has no ticket endpoint; PortalRefuses when it
        refuses to hand one."""
        if self._no_tickets_until is not None and self.clock() < self._no_tickets_until:
            return False
        if self._last_ticket_request is not None:
            wait = self._last_ticket_request + self.ticket_interval - self.clock()
            if wait > 0:
                self.pacer.hold_off(wait)
        client = self.client
        assert client is not None
        url = self.base + self.settings.portal_ticket_path
        headers = {"Accept": "application/json"}
        try:
            answer = self.pacer.send(lambda: client.post_json(url, {}, headers))
        finally:
            self._last_ticket_request = self.clock()
        if answer.status in NO_TICKET_ENDPOINT:
            log.info("portal: %s answered HTTP %d: no tickets here", url, answer.status)
            self.ticket = None
            self._no_tickets_until = self.clock() + NO_TICKET_RECHECK
            return False
        if answer.status != 200:
            path = self.settings.portal_ticket_path
            raise PortalRefuses(f"ticket endpoint {path} answered HTTP {answer.status}")
        try:
            self.ticket = Ticket(ticket_headers(answer.body), self.clock())
        except BadTicket as exc:
            raise PortalRefuses(f"ticket endpoint {url} answered no ticket: {exc}") from None
        log.info("portal: new ticket (%d headers)", len(self.ticket.headers))
        return True
