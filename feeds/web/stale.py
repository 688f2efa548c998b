"""Stale-if-error for every page whose content comes from the store (issue 30).

One rule for every such route of the Flask app: a 200 answer to a GET is kept, with its
validators (an ETag is made from the body when the route gave none), in a bounded
`VersionedCache` of the process; while the store cannot be reached, the kept copy is what
that URL answers (or 304 for a matching If-None-Match). A URL this process never answered
still gets 503 with Retry-After, and `/healthz` and `/metrics` say how things are now, never
what they were. A feed's own bytes are not kept twice: `FeedService.feed` keeps every page
of a feed it renders (and the fast path what it prepares), and serves it the same way.
"""

from collections.abc import Hashable
from dataclasses import dataclass

from flask import Request, Response

from feeds.publish.feedmodel import MEDIA_TYPES
from feeds.publish.versioned import VersionedCache
from feeds.web.pages import is_browser_tab

# The Flask endpoints (view names in feeds.web) whose content comes from the store.
STORE_PAGES = frozenset(
    {
        "all_feed",
        "agency_feed",
        "topic_feed",
        "search_feed",
        "search_page",
        "agency_page",
        "topic_page",
        "index",
        "item_page",
        "opml",
    }
)
# Pages of which there are as many as items or queries: kept apart, so that a crawler of
# every item or a flood of searches cannot push the index and the OPML out.
_MANY = frozenset({"item_page", "search_page", "search_feed"})
KEPT_BYTES = 16_000_000  # per process: the listing pages (index, OPML, feed pages)
_FEEDS = frozenset(MEDIA_TYPES.values())  # kept by the feed service already


@dataclass(frozen=True)
class Kept:
    body: bytes
    headers: list[tuple[str, str]]

    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers)


class StalePages:
    def __init__(self, variant_bytes: int, listing_bytes: int = KEPT_BYTES) -> None:
        # Pages with a query, item and search pages: within VARIANT_CACHE_BYTES, as the
        # feed pages rendered on demand are.
        self.listings: VersionedCache[Kept] = VersionedCache(listing_bytes, Kept.size)
        self.variants: VersionedCache[Kept] = VersionedCache(variant_bytes, Kept.size)

    def _cache(self, request: Request) -> VersionedCache[Kept]:
        many = request.query_string or request.endpoint in _MANY
        return self.variants if many else self.listings

    @staticmethod
    def _key(request: Request, base_url: str) -> Hashable:
        # What the answer varies on (feeds.web.pages.FEED_URL_VARY): gzip, and whether a
        # browser tab asked for the page at a feed's URL; the base URL, as a Host header
        # may choose it.
        gzipped = request.accept_encodings["gzip"] > 0
        return (request.path, request.query_string, base_url, gzipped, is_browser_tab())

    def keep(self, request: Request, response: Response, base_url: str, version: int) -> Response:
        """`after_request`: keep a 200 of a store page, given an ETag; 304 when it matches."""
        if (
            request.method != "GET"
            or response.status_code != 200
            or request.endpoint not in STORE_PAGES
            or response.is_streamed
            or response.mimetype in _FEEDS
        ):
            return response
        if response.get_etag()[0] is None:
            response.add_etag()
        kept = Kept(response.get_data(), list(response.headers.items()))
        self._cache(request).put(self._key(request, base_url), version, kept)
        return response.make_conditional(request)

    def copy(self, request: Request, base_url: str) -> Response | None:
        """The kept answer to this request (or 304), else None: the store being down."""
        if request.method not in ("GET", "HEAD") or request.endpoint not in STORE_PAGES:
            return None
        kept = self._cache(request).latest(self._key(request, base_url))
        if kept is None:
            return None
        response = Response(kept.body, headers=kept.headers)
        return response.make_conditional(request)
