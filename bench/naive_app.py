"""The naive way: build the feed from the store on every request, no cache.

`gunicorn bench.naive_app:app`, configured like the real app (FEEDS_* variables): each
request reads the same 50 rows from the same store through `FeedService` and renders
them with `feeds.publish.render` (feedgen), then gzips them as the real app does, so the bytes
are the same as the real app's and the comparison is only about caching.
"""

import gzip
import os

from flask import Flask, Response, request

from feeds.publish.catalog import load_agencies
from feeds.publish.feedmodel import MEDIA_TYPES, FeedRef
from feeds.publish.feedservice import FeedService, PageQuery
from feeds.publish.render import RENDERERS
from feeds.settings import Settings, load_settings
from feeds.store import Store
from feeds.text.classify import load_topics


def build_feed(service: FeedService, ref: FeedRef, fmt: str, base: str, query: PageQuery) -> bytes:
    """A feed page from the store, the way the real app renders it, with no cache at all."""
    page = service.rows(ref, query)
    entries = [service.entry(row, base) for row in page.rows]
    links = service.page_links(ref, fmt, query, page, base)
    return RENDERERS[fmt](service.meta(ref, query.lang), entries, links)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    service = FeedService(
        Store(settings.database_url),
        load_agencies(settings.agencies_file),
        load_topics(settings.topics_file),
        settings.site_url,
    )
    app = Flask(__name__)

    def build(ref: FeedRef, fmt: str) -> Response:
        base = service.site_url or request.host_url.rstrip("/")
        body = build_feed(service, ref, fmt, base, PageQuery())
        response = Response(body, mimetype=MEDIA_TYPES[fmt])
        if request.accept_encodings["gzip"] > 0:
            response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
            response.content_encoding = "gzip"
        return response

    @app.get("/all.<fmt>")
    def all_feed(fmt: str) -> Response:
        return build(FeedRef("all"), fmt)

    @app.get("/agencies/<slug>.<fmt>")
    def agency_feed(slug: str, fmt: str) -> Response:
        return build(FeedRef("agency", slug), fmt)

    @app.get("/topics/<slug>.<fmt>")
    def topic_feed(slug: str, fmt: str) -> Response:
        return build(FeedRef("topic", slug), fmt)

    return app


app = create_app() if os.environ.get("FEEDS_DATABASE_URL") else None
