"""A stand-in for the gov.kz news API on 127.0.0.1 that behaves like a real server: a thread
per connection (one stalled article does not hold the others), keep-alive, and per article
the faults the real portal shows: an answer that never comes in time, a reset connection,
5xx for a while, 429 with Retry-After. Every request's arrival is recorded.
"""

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

from feeds.enrich import API_PATH

PREFIX = API_PATH.format(id=0)[:-1]


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
    requests: list[Request] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real server

            def do_GET(self) -> None:
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

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        news_id = handler.path.split("?")[0].removeprefix(PREFIX)
        with self.lock:
            before = sum(r.news_id == news_id for r in self.requests)
            lang = handler.headers.get("Accept-Language", "")
            self.requests.append(Request(time.monotonic(), news_id, lang))
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
