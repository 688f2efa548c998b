"""Answers that are not a page: an oversized query string (414, before any view); the store
out of reach (stale-if-error: the copy this process served before, else 503), too many
renders on demand (503 with Retry-After), HTTP errors (plain text); and the keeping of the
copies served in an outage."""

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from feeds.errors import StoreError
from feeds.publish.feedservice import RenderBusy
from feeds.web.fastpath import RETRY_AFTER
from feeds.web.stale import STORE_PAGES
from feeds.web.views.respond import base_url, plain, service, stale_pages, unavailable

MAX_QUERY_BYTES = 2048
BUSY_RETRY_AFTER = 5  # seconds: renders on demand take a fraction of one each


def register_limit(app: Flask) -> None:
    app.before_request(limit_query)


def register_handlers(app: Flask) -> None:
    app.register_error_handler(StoreError, store_down)  # StoreUnavailable among them
    app.register_error_handler(RenderBusy, busy)
    app.register_error_handler(HTTPException, http_error)


def limit_query() -> Response | None:
    if len(request.query_string) > MAX_QUERY_BYTES:
        return plain(414, f"query string over {MAX_QUERY_BYTES} bytes")
    return None


def store_down(exc: Exception) -> Response:
    """Stale-if-error: what this process answered before at this URL, else 503."""
    service().outage.failed(exc)
    kept = stale_pages().copy(request, base_url())
    if kept is None:
        return unavailable("the store cannot be reached", RETRY_AFTER)
    return kept


def busy(exc: RenderBusy) -> Response:
    return unavailable("too many pages being rendered on demand", BUSY_RETRY_AFTER)


def http_error(exc: HTTPException) -> Response:
    return plain(exc.code or 500, f"{exc.code} {exc.name}")


def keep_for_outages(response: Response) -> Response:
    """`after_request`: a page of the store's, kept for while the store is down."""
    if request.endpoint not in STORE_PAGES:
        return response
    return stale_pages().keep(request, response, base_url(), service().last_version)
