"""The polling fast path: a WSGI layer in front of Flask for the requests aggregators make
all day, a plain GET or HEAD of a feed URL without a query string.

Such a request is answered from headers and bytes prepared once per content version: a
dictionary lookup and a version check, no Flask request, no routing, no templating. While
the store cannot be reached, what was prepared before is served as it was (same bytes, same
validators, so 304s go on); a feed not prepared yet gets 503 with Retry-After.
Measured (BENCHMARKS.md): Flask's own dispatch cost more than everything else on this path,
so this layer is the difference between about 0.5x and more than 1x of a bare Flask app
returning the same bytes. Anything else (a query string, a browser tab, an unknown feed,
other methods) goes to Flask unchanged.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.http import http_date, is_resource_modified

from feeds.publish.feedmodel import FORMATS
from feeds.publish.feedservice import FeedService, PageQuery, Rendered
from feeds.publish.outage import StoreUnavailable
from feeds.publish.versioned import VersionedCache
from feeds.text.links import SLUG
from feeds.web.hosts import BASE, PublicBase
from feeds.web.pages import STYLED_FEED_TYPES

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_FEED_PATH = re.compile(rf"^/(?:(all)|(agencies|topics)/({SLUG}))\.({'|'.join(FORMATS)})$")
_KINDS = {"agencies": "agency", "topics": "topic"}
ROUTES = {  # the Flask rule of each path shape, so /metrics counts both paths alike
    "all": "/all.<fmt:fmt>",
    "agency": "/agencies/<slug:slug>.<fmt:fmt>",
    "topic": "/topics/<slug:slug>.<fmt:fmt>",
}
BROWSER_DESTINATIONS = {"document", "iframe"}


@dataclass(frozen=True)
class Prepared:
    etag: str
    last_modified: Any
    full: list[tuple[str, str]]  # headers of a 200
    not_modified: list[tuple[str, str]]  # headers of a 304
    body: bytes


def prepare(rendered: Rendered, gzipped: bool, max_age: int, link: str) -> Prepared:
    """The exact headers feeds.web.app.feed_response gives, built once; `link` the page's HTTP
    Link (FeedService.link_header)."""
    body = rendered.gzipped if gzipped else rendered.body
    styled = rendered.media_type in STYLED_FEED_TYPES
    etag = rendered.etag + ("-gz" if gzipped else "")
    # A 304 repeats what a cache must update (RFC 9110, 15.4.5): with an ETag, no
    # Last-Modified (werkzeug drops it from Flask's 304s too).
    common = [
        ("ETag", f'"{etag}"'),
        ("Cache-Control", f"public, max-age={max_age}"),
        # As feeds.web.pages.feeds_for_browsers says for Flask's answers: Atom and RSS differ
        # for browser tabs.
        ("Vary", "Accept-Encoding, Sec-Fetch-Dest, Accept" if styled else "Accept-Encoding"),
        # WebSub discovery without parsing the body; in a 304 too, which a subscriber that
        # polls conditionally gets far more often than a 200.
        ("Link", link),
    ]
    full = [
        ("Content-Type", f"{rendered.media_type}; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *([("Content-Encoding", "gzip")] if gzipped else []),
        ("Last-Modified", http_date(rendered.last_modified)),
        *common,
    ]
    return Prepared(etag, rendered.last_modified, full, common, body)


# A store outage: what this process prepared before is served; anything else waits.
RETRY_AFTER = 30  # seconds
UNAVAILABLE = b"503 Service Unavailable: the store cannot be reached; try again later\n"
FAST_PATH_ENTRIES = 16_384  # prepared answers: per feed, format, encoding and base URL


def unavailable_headers(body: bytes, retry_after: int) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Retry-After", str(retry_after)),
        ("Cache-Control", "no-store"),
    ]


class FeedFastPath:
    def __init__(
        self, app: WSGIApp, service: FeedService, max_age: int, count: Callable[[str, str], None]
    ) -> None:
        self.app = app
        self.service = service
        self.max_age = max_age
        self.count = count
        self.prepared: VersionedCache[Prepared] = VersionedCache(FAST_PATH_ENTRIES)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = self._candidate(environ)
        base: PublicBase | None = environ.get(BASE)
        if match is None or base is None or not base.shared:
            return self.app(environ, start_response)  # a page rendered on demand: Flask's
        kind = "all" if match[1] else _KINDS[match[2]]
        gzipped = "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")
        key = (kind, match[3] or "", match[4], gzipped, base.url)
        try:
            version = self.service.version()
            prepared = self.prepared.get(key, version) or self._prepare(key, version)
        except StoreUnavailable:
            prepared = self.prepared.latest(key)  # stale-if-error: as it was served before
            if prepared is None:
                self.count(ROUTES[kind], "503")
                headers = unavailable_headers(UNAVAILABLE, RETRY_AFTER)
                start_response("503 SERVICE UNAVAILABLE", headers)
                return [UNAVAILABLE]
        if prepared is None:
            return self.app(environ, start_response)  # no such feed: Flask says 404 its way
        if not is_resource_modified(
            environ, etag=prepared.etag, last_modified=prepared.last_modified
        ):
            self.count(ROUTES[kind], "304")
            start_response("304 NOT MODIFIED", list(prepared.not_modified))
            return []
        self.count(ROUTES[kind], "200")
        start_response("200 OK", list(prepared.full))
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [prepared.body]

    @staticmethod
    def _candidate(environ: dict[str, Any]) -> re.Match[str] | None:
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return None
        if environ.get("HTTP_SEC_FETCH_DEST") in BROWSER_DESTINATIONS:
            return None  # a browser tab: Flask answers with the feed's page
        if "HTTP_SEC_FETCH_DEST" not in environ and "text/html" in environ.get("HTTP_ACCEPT", ""):
            return None
        return _FEED_PATH.match(environ.get("PATH_INFO", ""))

    def _prepare(self, key: tuple[str, str, str, bool, str], version: int) -> Prepared | None:
        """The answer of a feed for this version (None: no such feed), kept."""
        kind, slug, fmt, gzipped, base_url = key
        ref = self.service.resolve(kind, slug, version)
        if ref is None:
            return None
        rendered = self.service.render(ref, fmt, PageQuery(), base_url, version)
        link = self.service.link_header(ref, fmt, PageQuery(), base_url)
        prepared = prepare(rendered, gzipped, self.max_age, link)
        self.prepared.put(key, version, prepared)
        return prepared
