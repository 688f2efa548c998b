"""The web application (Flask): feeds, HTML pages, OPML and health (SPEC section 5).

`create_app(settings)` builds everything from settings it is given; nothing is read at
import time and no scheduler is started here (gunicorn forks workers; see wsgi.py).
"""

from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from feeds.catalog import load_agencies
from feeds.classify import load_topics
from feeds.feedmodel import FORMATS, FeedRef
from feeds.feedservice import BadParameter, FeedService, PageQuery, Rendered, parse_query
from feeds.render import render_opml
from feeds.settings import Settings, load_settings
from feeds.store import Store

MAX_QUERY_BYTES = 2048


class SlugConverter(BaseConverter):
    regex = r"[a-z0-9][a-z0-9_-]{0,127}"


class FormatConverter(BaseConverter):
    regex = "|".join(FORMATS)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["fmt"] = FormatConverter
    app.config["FEEDS_SETTINGS"] = settings
    store = Store(settings.database_url)
    service = FeedService(
        store,
        load_agencies(settings.agencies_file),
        load_topics(settings.topics_file),
        settings.site_url,
    )
    app.extensions["feeds"] = service
    _routes(app)
    return app


def service() -> FeedService:
    return current_app.extensions["feeds"]


def base_url() -> str:
    return request.host_url.rstrip("/")


def _plain(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def feed_response(rendered: Rendered) -> Response:
    """The stored bytes with validators; 304 for a matching conditional request."""
    settings: Settings = current_app.config["FEEDS_SETTINGS"]
    gzipped = request.accept_encodings["gzip"] > 0
    response = Response(
        rendered.gzipped if gzipped else rendered.body, mimetype=rendered.media_type
    )
    response.charset = "utf-8"
    if gzipped:
        response.content_encoding = "gzip"
    # A strong ETag per representation: the gzipped bytes differ from the plain ones.
    response.set_etag(rendered.etag + ("-gz" if gzipped else ""))
    response.last_modified = rendered.last_modified
    response.cache_control.public = True
    response.cache_control.max_age = int(settings.ingest_interval)
    response.vary.add("Accept-Encoding")
    return response.make_conditional(request)


def _feed(kind: str, slug: str, fmt: str) -> Response:
    ref = service().resolve(kind, slug)
    if ref is None:
        return _plain(404, f"unknown {kind} {slug!r}")
    try:
        query = parse_query(request.args.to_dict())
    except BadParameter as exc:
        return _plain(400, str(exc))
    return feed_response(service().render(ref, fmt, query, base_url()))


def _page(kind: str, slug: str) -> Response | str:
    ref = service().resolve(kind, slug)
    if ref is None:
        return _plain(404, f"unknown {kind} {slug!r}")
    try:
        query = parse_query(request.args.to_dict())
    except BadParameter as exc:
        return _plain(400, str(exc))
    return render_template("feed.html", **feed_page_context(ref, query))


def feed_page_context(ref: FeedRef, query: PageQuery) -> dict[str, Any]:
    svc = service()
    page = svc.rows(ref, query)
    links = svc.page_links(ref, "atom", query, page, base_url())
    html_links = svc.page_links(ref, "", query, page, base_url())
    return {
        "meta": svc.meta(ref, query.lang),
        "ref": ref,
        "entries": [svc.entry(row, base_url()) for row in page.rows],
        "feed_urls": {fmt: f"{base_url()}{ref.path(fmt)}" for fmt in FORMATS},
        "next": html_links.next,
        "previous": html_links.previous,
        "atom": links,
    }


def _routes(app: Flask) -> None:
    @app.before_request
    def limit_query() -> Response | None:
        if len(request.query_string) > MAX_QUERY_BYTES:
            return _plain(414, f"query string over {MAX_QUERY_BYTES} bytes")
        return None

    @app.get("/all.<fmt:fmt>")
    def all_feed(fmt: str) -> Response:
        return _feed("all", "", fmt)

    @app.get("/agencies/<slug:slug>.<fmt:fmt>")
    def agency_feed(slug: str, fmt: str) -> Response:
        return _feed("agency", slug, fmt)

    @app.get("/topics/<slug:slug>.<fmt:fmt>")
    def topic_feed(slug: str, fmt: str) -> Response:
        return _feed("topic", slug, fmt)

    @app.get("/agencies/<slug:slug>")
    def agency_page(slug: str) -> Response | str:
        return _page("agency", slug)

    @app.get("/topics/<slug:slug>")
    def topic_page(slug: str) -> Response | str:
        return _page("topic", slug)

    @app.get("/")
    def index() -> str:
        return render_template("index.html", **index_context())

    @app.get("/items/<uid>")
    def item_page(uid: str) -> Response | str:
        row = service().store.item_by_uid(uid)
        if row is None:
            return _plain(404, f"unknown item {uid[:40]!r}")
        return render_template("item.html", entry=service().entry(row, base_url()))

    @app.get("/feeds.opml")
    def opml() -> Response:
        body = render_opml("gov.kz news feeds", opml_groups())
        return Response(body, mimetype="text/x-opml")

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, Any], int]:
        store = service().store
        try:
            last = store.last_ingest()
            answer = {
                "status": "ok",
                "items": store.count_items(),
                "content_version": store.content_version(),
                "last_ingest": last.isoformat() if last else None,
            }
        except SQLAlchemyError as exc:
            return {"status": "error", "error": f"store unavailable: {exc.__class__.__name__}"}, 503
        return answer, 200

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return _plain(exc.code or 500, f"{exc.code} {exc.name}")


def index_context() -> dict[str, Any]:
    svc = service()
    agencies = {row.name: row for row in svc.store.agency_counts()}
    topics = {row.name: row for row in svc.store.topic_counts()}
    names = svc.topic_names()
    agency_rows = []
    for slug in sorted(set(agencies) | {a.slug for a in svc.agencies.all()}):
        subtree = {slug} | svc.agencies.descendants(slug)
        counted = [agencies[s] for s in subtree if s in agencies]
        if not counted:
            continue
        last = max(c.last_updated for c in counted if c.last_updated)
        agency = svc.agencies.get(slug)
        depth = len(svc.agencies.ancestors(slug))
        agency_rows.append((agency, sum(c.items for c in counted), last, depth))
    topic_rows = [
        (slug, names.get(slug, slug), row.items, row.last_updated) for slug, row in topics.items()
    ]
    return {
        "total": svc.store.count_items(),
        "agencies": _by_parent(agency_rows, svc),
        "topics": topic_rows,
        "now": datetime.now(UTC),
    }


def _by_parent(rows: list, svc: FeedService) -> list:
    """Agencies in tree order: each parent followed by its children."""
    by_slug = {row[0].slug: row for row in rows}
    ordered: list = []

    def visit(slug: str) -> None:
        if slug in by_slug:
            ordered.append(by_slug.pop(slug))
        for child in sorted(svc.agencies.children(slug)):
            visit(child)

    for slug in sorted(by_slug, key=lambda s: (len(svc.agencies.ancestors(s)), s)):
        visit(slug)
    return ordered


def opml_groups() -> list[tuple[str, list[tuple[str, str, str]]]]:
    svc = service()
    base = svc.site_url or base_url()
    context = index_context()
    everything = [("All gov.kz news", f"{base}/all.atom", f"{base}/")]
    agencies = [
        (agency.name, f"{base}/agencies/{agency.slug}.atom", f"{base}/agencies/{agency.slug}")
        for agency, *_ in context["agencies"]
    ]
    topics = [
        (name, f"{base}/topics/{slug}.atom", f"{base}/topics/{slug}")
        for slug, name, *_ in context["topics"]
    ]
    return [("Everything", everything), ("Agencies", agencies), ("Topics", topics)]
