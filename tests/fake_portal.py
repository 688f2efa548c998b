"""A stand-in for the gov.kz news API on 127.0.0.1 that behaves like a real server: a thread
per connection (one stalled article does not hold the others), keep-alive, and per article
the faults the real portal shows: an answer that never comes in time, a reset connection,
5xx for a while, 429 with Retry-After. Every request's arrival is recorded.

With a `TicketDesk` it wants a ticket as the live portal does (issue 27): news requests
without a live one get `400 {"error":"notAllowed"}`; a POST to the ticket path sets a cookie
and hands a JSON object of headers (with a few a client must not send: `Host`, a header
name with a line break, a number); tickets expire; some days it refuses everyone. With an
`RssShelf` it serves the official RSS per agency and language, with validators (304).
"""

import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from werkzeug import Response
from werkzeug.datastructures import Headers

from feeds.dumps.rss import RSS_PATH
from feeds.portal.enrich import API_PATH

PREFIX = API_PATH.format(id=0)[:-1]
TICKET_PATH = "/api/v1/public/_/c/k6"
RSS_PREFIX = RSS_PATH.split("{")[0]
NOT_ALLOWED = (("Content-Type", "application/json"),)
SIGN = "X-Portal-Sign"  # the header a ticket's JSON asks news requests to carry


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


STALL = "stall"  # never answers: the request waits until the portal stops
RESET = "reset"  # the connection is closed with a TCP reset instead of an answer
# What the portal does for an article: (news id, how many times it was asked before, the
# Accept-Language asked for) -> reply.
Behaviour = Callable[[str, int, str], Reply | str]


@dataclass(frozen=True)
class Request:
    at: float  # time.monotonic() of its arrival
    news_id: str
    lang: str
    kind: str = "news"  # news, ticket or rss
    path: str = ""
    ticketed: bool = False  # a news request that carried a live ticket
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class TicketDesk:
    """The portal's tickets: each lives `lifetime` seconds; while `refusing` is set every news
    request is refused, ticket or not; `endpoint` is what the ticket path answers."""

    lifetime: float = 45.0
    refusing: threading.Event = field(default_factory=threading.Event)
    endpoint: int = 200
    refused_items: frozenset[str] = frozenset()  # refused whatever the ticket
    issued: dict[str, float] = field(default_factory=dict)  # token -> time.monotonic()

    def hand_out(self) -> Reply:
        if self.endpoint != 200:
            return Reply(self.endpoint, b'{"error":"forbidden"}', NOT_ALLOWED)
        token = hashlib.sha256(str(time.monotonic_ns()).encode()).hexdigest()[:24]
        self.issued[token] = time.monotonic()
        body = {SIGN: f"sig-{token}", "Host": "evil.example", "X-Bad\r\nX-Injected": "1",
                "X-Count": 5, "Cookie": "stolen=1"}  # fmt: skip
        headers = (*NOT_ALLOWED, ("Set-Cookie", f"k6={token}; Path=/; HttpOnly"))
        return Reply(200, json.dumps(body).encode(), headers)

    def live(self, handler: BaseHTTPRequestHandler) -> bool:
        """Whether the request carries a ticket still alive: its cookie and its header."""
        cookies = dict(
            part.strip().split("=", 1)
            for part in handler.headers.get("Cookie", "").split(";")
            if "=" in part
        )
        token = cookies.get("k6", "")
        issued = self.issued.get(token)
        fresh = issued is not None and time.monotonic() - issued < self.lifetime
        return fresh and handler.headers.get(SIGN) == f"sig-{token}"

    def refuses(self, handler: BaseHTTPRequestHandler, news_id: str) -> bool:
        live = self.live(handler)
        return not live or self.refusing.is_set() or news_id in self.refused_items


@dataclass
class RssShelf:
    """The official RSS: a body per (agency, lang), each with an ETag and Last-Modified
    (304 when the client has them); no feed is a 404."""

    feeds: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def answer(self, path: str, handler: BaseHTTPRequestHandler) -> Reply:
        parts = path.removeprefix(RSS_PREFIX).split("/")  # agency, "news", lang
        if len(parts) != 3 or (parts[0], parts[2]) not in self.feeds:
            return Reply(404, b"not found")
        body = self.feeds[(parts[0], parts[2])]
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        modified = "Fri, 09 Jan 2026 10:00:00 GMT"
        validators = (("ETag", etag), ("Last-Modified", modified))
        if handler.headers.get("If-None-Match") == etag:
            return Reply(304, b"", validators)
        return Reply(200, body, (("Content-Type", "application/rss+xml"), *validators))


def rss_xml(agency: str, lang: str, entries: list[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 feed as gov.kz publishes it: (news id, title, RFC 822 pubDate) items."""
    items = "".join(
        f"<item><title>{title}</title>"
        f"<link>https://www.gov.kz/memleket/entities/{agency}/press/news/details/{news_id}"
        f"?lang={lang}</link><guid>{news_id}</guid><pubDate>{when}</pubDate>"
        f"<description>&lt;p&gt;Summary of {news_id}.&lt;/p&gt;</description></item>"
        for news_id, title, when in entries
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{agency}</title><link>https://www.gov.kz/memleket/entities/{agency}</link>"
        f"<description>News</description><language>{lang}</language>{items}</channel></rss>"
    ).encode()


def news_json(news_id: str, **fields: object) -> Reply:
    body = {
        "id": int(news_id),
        "title": f"Title {news_id}",
        "body": f"<p>Body of {news_id}.</p>",
        "created_date": "2026-01-09T10:15:00.000+00:00",
        "heropic": None,
        "short_description": "",
        **fields,
    }
    return Reply(200, json.dumps(body).encode(), (("Content-Type", "application/json"),))


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a reset connection or a client that gave up: expected here, not news


@dataclass
class FakePortal:
    behaviour: Behaviour
    port: int = 0  # 0: any free port
    tickets: TicketDesk | None = None
    rss: RssShelf | None = None
    requests: list[Request] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real server

            def do_GET(self) -> None:
                portal.answer(self)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                portal.answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FakePortal":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def asked(self, news_id: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.news_id == news_id]

    def of_kind(self, kind: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.kind == kind]

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        if path == TICKET_PATH and handler.command == "POST":
            self._send(handler, self._record("ticket", path, handler, self._ticket))
            return
        if path.startswith(RSS_PREFIX) and self.rss is not None:
            shelf = self.rss
            self._send(
                handler, self._record("rss", path, handler, lambda: shelf.answer(path, handler))
            )
            return
        news_id = path.removeprefix(PREFIX)
        with self.lock:
            before = sum(r.news_id == news_id and r.kind == "news" for r in self.requests)
            lang = handler.headers.get("Accept-Language", "")
            desk = self.tickets
            refused = desk is not None and desk.refuses(handler, news_id)
            ticketed = desk is not None and desk.live(handler)
            self.requests.append(
                Request(time.monotonic(), news_id, lang, "news", path, ticketed,
                        tuple(handler.headers.items()))
            )  # fmt: skip
        if refused:
            reply: Reply | str = Reply(400, b'{"error":"notAllowed"}', NOT_ALLOWED)
        else:
            reply = self.behaviour(news_id, before, lang) if news_id.isdigit() else Reply(404)
        if reply == STALL:
            self.stopping.wait()
            handler.close_connection = True
            return
        if reply == RESET:
            # SO_LINGER with a zero timeout: close() sends RST, as a crashing backend does.
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.close_connection = True
            handler.connection.close()
            return
        assert isinstance(reply, Reply)
        self._send(handler, reply)

    def _ticket(self) -> Reply:
        return self.tickets.hand_out() if self.tickets is not None else Reply(404, b"no")

    def _record(
        self, kind: str, path: str, handler: BaseHTTPRequestHandler, reply: Callable[[], Reply]
    ) -> Reply:
        with self.lock:
            headers = tuple(handler.headers.items())
            self.requests.append(Request(time.monotonic(), "", "", kind, path, False, headers))
            return reply()

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        handler.send_response(reply.status)
        for name, value in reply.headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body)


class RawHeaders(Response):
    """An answer whose headers go out as written, as any server's may: Werkzeug's own
    would make its Location a proper URI first, and fail (500) on one it cannot parse."""

    def get_wsgi_headers(self, environ: Any) -> Headers:
        return Headers(self.headers)


# An article body as gov.kz writes one that publishes documents (issue 28): a decree linked
# relatively, a plan absolutely, the decree again under other words, a table over plain HTTP
# on the bare host, and links that are no file of gov.kz (a page, another host's PDF).
DOCUMENTS_BODY = (
    "<p>The decree was signed: "
    '<a href="/uploads/2026/1/9/decree_123.pdf">Decree No. 123</a>.</p>'
    '<p>See the <a href="https://www.gov.kz/uploads/2026/1/9/plan_2026.docx">action\n plan'
    "</a> and the "
    '<a href="https://www.gov.kz/memleket/entities/mfa/press/news/details/1">previous news</a>'
    ', the <a href="https://example.com/uploads/other.pdf">copy elsewhere</a>'
    ', the <a href="/uploads/2026/1/9/decree_123.pdf#page=2">decree, page 2</a>'
    ' and the <a href="http://gov.kz/uploads/2026/1/9/budget.xlsx">budget</a>.</p>'
)


def news_with_documents(news_id: str, **fields: object) -> Reply:
    """An article answer whose body links documents (DOCUMENTS_BODY) under a hero image."""
    return news_json(
        news_id, **{"body": DOCUMENTS_BODY, "heropic": "/uploads/2026/1/9/signing.jpg", **fields}
    )
