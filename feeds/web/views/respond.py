"""What every view uses: the feed service of the app, its stale copies, the public base of
links, plain answers and a feed's Link header on its HTML page."""

from flask import Response, current_app, request

from feeds.publish.feedmodel import FeedRef
from feeds.publish.feedservice import FeedService, PageQuery
from feeds.web.hosts import BASE, PublicBase
from feeds.web.stale import StalePages


def service() -> FeedService:
    return current_app.extensions["feeds"]


def stale_pages() -> StalePages:
    return current_app.extensions["feeds.web.stale"]


def public_base() -> PublicBase:
    """SITE_URL, else the request's allowed host (feeds.web.hosts checked it in front)."""
    base = request.environ.get(BASE)
    if base is None:  # a request that did not come through the WSGI layers (tests)
        base = current_app.extensions["feeds.web.hosts"].base(request.environ)
    return base


def base_url() -> str:
    return public_base().url


def site_base() -> str:
    """The public base URL, as the OPML gives it: what a reader should be given to copy."""
    return base_url()


def unavailable(message: str, retry_after: int) -> Response:
    response = plain(503, f"503 Service Unavailable: {message}; try again later")
    response.headers["Retry-After"] = str(retry_after)
    response.cache_control.no_store = True
    return response


def plain(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def with_link(response: Response, ref: FeedRef, fmt: str, query: PageQuery) -> Response:
    """The feed's Link header on its HTML page: the hub and, as self, the feed a subscriber
    gets there (the Atom one on the page's own URL), the topic the hub is told about."""
    link = service().link_header(ref, fmt or "atom", query, base_url())
    response.headers["Link"] = link
    return response
