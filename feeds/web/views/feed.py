"""The feeds: /all, /agencies/<slug>, /topics/<slug> and /search, each as Atom, RSS or JSON
Feed. A browser tab that opens one is shown the feed's page instead (feeds.web.pages)."""

from flask import Flask, Response, current_app, request
from werkzeug.http import is_resource_modified

from feeds.publish.feedmodel import MEDIA_TYPES, FeedRef
from feeds.publish.feedservice import BadParameter, Rendered, parse_query
from feeds.settings import Settings
from feeds.web import pages
from feeds.web.fastpath import prepare
from feeds.web.views.feedpages import feed_page_at_feed_url
from feeds.web.views.respond import plain, public_base, service
from feeds.web.views.search import search_page_response


def register(app: Flask) -> None:
    app.get("/all.<fmt:fmt>")(all_feed)
    app.get("/agencies/<slug:slug>.<fmt:fmt>")(agency_feed)
    app.get("/topics/<slug:slug>.<fmt:fmt>")(topic_feed)
    app.get("/search.<fmt:fmt>")(search_feed)


def all_feed(fmt: str) -> Response:
    return feed("all", "", fmt)


def agency_feed(slug: str, fmt: str) -> Response:
    return feed("agency", slug, fmt)


def topic_feed(slug: str, fmt: str) -> Response:
    return feed("topic", slug, fmt)


def search_feed(fmt: str) -> Response:
    return feed("search", "", fmt)


def feed(kind: str, slug: str, fmt: str) -> Response:
    try:
        query = parse_query(request.args.to_dict(flat=False), filters=kind == "search")
    except BadParameter as exc:
        return plain(400, str(exc))
    if kind == "search" and pages.shows_page(MEDIA_TYPES[fmt]):
        return pages.vary_as_a_feed_url(search_page_response(fmt))
    if pages.shows_page(MEDIA_TYPES[fmt]):
        ref = service().resolve(kind, slug)
        if ref is None:
            return plain(404, f"unknown {kind} {slug!r}")
        return feed_page_at_feed_url(ref, fmt, query)
    base = public_base()
    rendered = service().feed(kind, slug, fmt, query, base.url, base.shared)
    if rendered is None:
        return plain(404, f"unknown {kind} {slug!r}" if slug else "unknown agency or topic")
    ref = FeedRef("all") if kind == "all" else FeedRef(kind, slug)  # type: ignore[arg-type]
    return feed_response(rendered, service().link_header(ref, fmt, query, base.url))


def feed_response(rendered: Rendered, link: str) -> Response:
    """The stored bytes with validators; 304 for a matching conditional request. The headers
    are the fast path's (`feeds.web.fastpath.prepare`), so that both paths answer alike."""
    settings: Settings = current_app.config["FEEDS_SETTINGS"]
    gzipped = request.accept_encodings["gzip"] > 0
    prepared = prepare(rendered, gzipped, int(settings.ingest_interval), link)
    etag, modified = prepared.etag, prepared.last_modified
    if not is_resource_modified(request.environ, etag=etag, last_modified=modified):
        response = Response(status=304, headers=prepared.not_modified)
        del response.headers["Content-Type"]  # a 304 has no body to have a type
        return response
    return Response(prepared.body, headers=prepared.full)
