"""The web application (Flask): feeds, HTML pages, OPML and health (SPEC section 5).

`create_app(settings)` builds everything from settings it is given; nothing is read at
import time and no scheduler is started here (gunicorn forks workers; see wsgi.py).
"""

import logging
import math
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import is_resource_modified
from werkzeug.routing import BaseConverter

from feeds.errors import StoreError
from feeds.metrics import RENDERS, REQUESTS, exposition
from feeds.publish.catalog import load_agencies
from feeds.publish.feedmodel import FORMATS, MEDIA_TYPES, FeedRef
from feeds.publish.feedservice import (
    BadParameter,
    FeedService,
    PageQuery,
    RenderBusy,
    Rendered,
    parse_query,
)
from feeds.publish.fingerprint import pages_fingerprint
from feeds.publish.render import render_opml
from feeds.settings import Settings, load_settings
from feeds.store import Store
from feeds.text.classify import load_topics
from feeds.text.links import LANGUAGE_ORDER, LANGUAGE_SELF_NAMES, SLUG
from feeds.web import pages, searchpage
from feeds.web.fastpath import RETRY_AFTER, FeedFastPath, prepare
from feeds.web.hosts import BASE, AllowedHosts, Hosts, PublicBase
from feeds.web.stale import STORE_PAGES, StalePages

log = logging.getLogger(__name__)
MAX_QUERY_BYTES = 2048
BUSY_RETRY_AFTER = 5  # seconds: renders on demand take a fraction of one each
# An item's uid as feeds.dumps.records.item_uid writes it.
_UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class SlugConverter(BaseConverter):
    regex = SLUG


class FormatConverter(BaseConverter):
    regex = "|".join(FORMATS)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["fmt"] = FormatConverter
    app.config["FEEDS_SETTINGS"] = settings
    app.jinja_env.globals["language_name"] = lambda lang: LANGUAGE_SELF_NAMES.get(lang, lang)
    store = Store(settings.database_url, migrate=False)
    agencies, rules = load_agencies(settings.agencies_file), load_topics(settings.topics_file)
    fingerprint = pages_fingerprint(settings)
    _open(store, fingerprint)
    service = FeedService(
        store,
        agencies,
        rules,
        settings.site_url,
        on_render=RENDERS.inc,
        hub=settings.websub_hub,
        fingerprint=fingerprint,
        variant_bytes=settings.variant_cache_bytes,
        max_renders=settings.max_variant_renders,
        ttl=math.ceil(settings.ingest_interval / 60),
    )
    hosts = Hosts(settings.site_url, settings.allowed_hosts)
    app.extensions["feeds"] = service
    app.extensions["feeds.web.hosts"] = hosts
    app.extensions["feeds.web.stale"] = StalePages(settings.variant_cache_bytes)
    _routes(app)
    # after_request functions run last registered first: Vary is set before a copy is
    # kept, and the requests are counted with their final status (a 304 from `keep`).
    app.after_request(keep_for_outages)
    app.after_request(pages.feeds_for_browsers)
    count = lambda route, status: REQUESTS.labels(route, status).inc()  # noqa: E731
    fast = FeedFastPath(app.wsgi_app, service, int(settings.ingest_interval), count)
    app.wsgi_app = AllowedHosts(fast, hosts)  # type: ignore[method-assign]
    return app


def _open(store: Store, fingerprint: str) -> None:
    """Migrate the store and delete the shared pages of another fingerprint. A store that
    cannot be reached at all does not stop the process: gunicorn halts every worker when one
    fails to start, so a worker started again during an outage would take the others down;
    this one answers 503 until the store is back (`feeds serve` and `feeds db upgrade`
    migrate before any worker starts). A migration that fails is still an error."""
    try:
        store.revision()
    except StoreError as exc:
        log.warning("store unreachable at start (%s): answering 503 until it is back", exc)
        return
    store.migrate()
    store.keep_pages_of(fingerprint)


def service() -> FeedService:
    return current_app.extensions["feeds"]


def stale_pages() -> StalePages:
    return current_app.extensions["feeds.web.stale"]


def keep_for_outages(response: Response) -> Response:
    """`after_request`: a page of the store's, kept for while the store is down."""
    if request.endpoint not in STORE_PAGES:
        return response
    return stale_pages().keep(request, response, base_url(), service().last_version)


def public_base() -> PublicBase:
    """SITE_URL, else the request's allowed host (feeds.web.hosts checked it in front)."""
    base = request.environ.get(BASE)
    if base is None:  # a request that did not come through the WSGI layers (tests)
        base = current_app.extensions["feeds.web.hosts"].base(request.environ)
    return base


def base_url() -> str:
    return public_base().url


def _unavailable(message: str, retry_after: int) -> Response:
    response = _plain(503, f"503 Service Unavailable: {message}; try again later")
    response.headers["Retry-After"] = str(retry_after)
    response.cache_control.no_store = True
    return response


def _plain(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


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


def _feed(kind: str, slug: str, fmt: str) -> Response:
    try:
        query = parse_query(request.args.to_dict(flat=False), filters=kind == "search")
    except BadParameter as exc:
        return _plain(400, str(exc))
    if kind == "search" and pages.shows_page(MEDIA_TYPES[fmt]):
        return pages.vary_as_a_feed_url(_search_page(fmt))
    if pages.shows_page(MEDIA_TYPES[fmt]):
        ref = service().resolve(kind, slug)
        if ref is None:
            return _plain(404, f"unknown {kind} {slug!r}")
        return feed_page_at_feed_url(ref, fmt, query)
    base = public_base()
    rendered = service().feed(kind, slug, fmt, query, base.url, base.shared)
    if rendered is None:
        return _plain(404, f"unknown {kind} {slug!r}" if slug else "unknown agency or topic")
    ref = FeedRef("all") if kind == "all" else FeedRef(kind, slug)  # type: ignore[arg-type]
    return feed_response(rendered, service().link_header(ref, fmt, query, base.url))


def _search_page(fmt: str = "") -> Response:
    status, context = searchpage.search_context(
        service(), request.args.to_dict(flat=False), base_url()
    )
    html = render_template("search.html", **context)
    response = Response(html, status=status, mimetype="text/html")
    if status != 200:
        return response
    return _with_link(response, searchpage.SEARCH, fmt, context["query"])


def feed_page_at_feed_url(ref: FeedRef, fmt: str, query: PageQuery) -> Response:
    """The feed's page for a browser tab that opened the feed's URL. Without the feed's
    validators: a browser holding the feed must not be told with a 304 that it holds this."""
    html = _feed_page_html(ref, query, fmt)
    return pages.vary_as_a_feed_url(
        _with_link(Response(html, mimetype="text/html"), ref, fmt, query)
    )


def _with_link(response: Response, ref: FeedRef, fmt: str, query: PageQuery) -> Response:
    """The feed's Link header on its HTML page: the hub and, as self, the feed a subscriber
    gets there (the Atom one on the page's own URL), the topic the hub is told about."""
    link = service().link_header(ref, fmt or "atom", query, base_url())
    response.headers["Link"] = link
    return response


def _page(kind: str, slug: str) -> Response | str:
    ref = service().resolve(kind, slug)
    if ref is None:
        return _plain(404, f"unknown {kind} {slug!r}")
    try:
        query = parse_query(request.args.to_dict(flat=False))
    except BadParameter as exc:
        return _plain(400, str(exc))
    return _with_link(Response(_feed_page_html(ref, query), mimetype="text/html"), ref, "", query)


def _feed_page_html(ref: FeedRef, query: PageQuery, fmt: str = "") -> str:
    """A feed's HTML page, at its own URL or (`fmt`) at a feed URL opened in a browser."""
    if not request.query_string:  # a feed's own page: as bounded as its canonical feed
        return render_template("feed.html", **feed_page_context(ref, query, fmt))
    with service().rendering_slot():  # any other page of it is a variant, rendered on demand
        return render_template("feed.html", **feed_page_context(ref, query, fmt))


def site_base() -> str:
    """The public base URL, as the OPML gives it: what a reader should be given to copy."""
    return base_url()


def feed_page_context(ref: FeedRef, query: PageQuery, fmt: str = "") -> dict[str, Any]:
    """The feed page's template context: at the page's own URL (`fmt` empty) or at a feed's
    URL opened in a browser (`fmt` its format), where its links stay on that feed's URLs."""
    svc = service()
    page = svc.rows(ref, query)
    links = svc.page_links(ref, "atom", query, page, base_url())
    html_links = svc.page_links(ref, fmt, query, page, base_url())
    languages = [("", "All languages")] + [
        (lang, LANGUAGE_SELF_NAMES[lang]) for lang in LANGUAGE_ORDER
    ]
    return {
        "meta": svc.meta(ref, query.lang),
        "ref": ref,
        "summary": pages.feed_summary(svc, ref),
        "entries": [svc.entry(row, base_url()) for row in page.rows],
        "feed_urls": {each: f"{base_url()}{ref.path(each)}" for each in FORMATS},
        "copy_url": _copy_url(ref, fmt, query),
        "feed_format": fmt,
        "feed_params": query.params(after=None, before=None),
        "lang": query.lang or "",
        "language_links": [
            (
                lang,
                name,
                _page_url(ref, fmt, query.params(lang=lang or None, after=None, before=None)),
            )
            for lang, name in languages
        ],
        "next": html_links.next,
        "previous": html_links.previous,
        "atom": links,
        "is_govkz": pages.is_govkz,
    }


def _page_url(ref: FeedRef, fmt: str, params: dict[str, str | list[str]]) -> str:
    return ref.path(fmt) + (f"?{urlencode(params, doseq=True)}" if params else "")


def _copy_url(ref: FeedRef, fmt: str, query: PageQuery) -> str:
    """What a reader should be given: the Atom feed on the page's own URL; at a feed's URL,
    that feed with its ?lang= and ?limit= but from its first page (a cursor's page is an
    archive, which never gets a new item)."""
    if not fmt:
        return f"{site_base()}{ref.path('atom')}"
    return site_base() + _page_url(ref, fmt, query.params(after=None, before=None))


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

    @app.get("/search.<fmt:fmt>")
    def search_feed(fmt: str) -> Response:
        return _feed("search", "", fmt)

    @app.get("/search")
    def search_page() -> Response:
        return _search_page()

    @app.get("/agencies/<slug:slug>")
    def agency_page(slug: str) -> Response | str:
        return _page("agency", slug)

    @app.get("/topics/<slug:slug>")
    def topic_page(slug: str) -> Response | str:
        return _page("topic", slug)

    @app.get("/")
    def index() -> str:
        return render_template("index.html", **index_context(request.args.get("q", "")))

    @app.get("/items/<uid>")
    def item_page(uid: str) -> Response | str:
        # Only what could be one of our uids is looked up: any other text is unknown, and
        # some (a NUL) PostgreSQL would refuse with an error instead of finding nothing.
        row = service().item(uid) if _UID.fullmatch(uid) else None
        if row is None:
            return _plain(404, f"unknown item {uid[:40]!r}")
        agency = service().agencies.get(row.agency) if row.agency else None
        return render_template(
            "item.html",
            entry=service().entry(row, base_url()),
            agency=agency,
            is_govkz=pages.is_govkz,
        )

    @app.get("/feeds.opml")
    def opml() -> Response:
        try:  # ?q=: the feeds of that search (of everything, and of each format), nothing else
            query = parse_query(request.args.to_dict(flat=False), filters=True)
        except BadParameter as exc:
            return _plain(400, str(exc))
        groups = opml_search_groups(query) if query.q else opml_groups()
        body = render_opml("gov.kz news feeds", groups)
        return Response(body, mimetype="text/x-opml")

    @app.get("/metrics")
    def metrics() -> Response:
        body, content_type = exposition(service().store)
        return Response(body, content_type=content_type)

    @app.after_request
    def count(response: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(rule, str(response.status_code)).inc()
        return response

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, Any], int]:
        try:
            return service().health(), 200
        except StoreError as exc:
            return {"status": "error", "error": f"store unavailable: {exc.__class__.__name__}"}, 503

    def store_down(exc: Exception) -> Response:
        """Stale-if-error: what this process answered before at this URL, else 503."""
        service().outage.failed(exc)
        kept = stale_pages().copy(request, base_url())
        if kept is None:
            return _unavailable("the store cannot be reached", RETRY_AFTER)
        return kept

    app.register_error_handler(StoreError, store_down)  # StoreUnavailable among them

    @app.errorhandler(RenderBusy)
    def busy(exc: RenderBusy) -> Response:
        return _unavailable("too many pages being rendered on demand", BUSY_RETRY_AFTER)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return _plain(exc.code or 500, f"{exc.code} {exc.name}")


def index_context(q: str = "") -> dict[str, Any]:
    """Every feed with items; with a query `q`, only the rows that match it (see feeds.web.pages).
    `agencies` and `topics` rows start with what `opml_groups` reads."""
    svc = service()
    counts = pages.language_counts(svc)
    all_agencies = pages.agency_rows(svc, counts)
    all_topics = pages.topic_rows(svc, counts)
    terms = pages.search_terms(q)
    agencies = pages.filter_agencies(all_agencies, terms)
    topics = pages.filter_topics(all_topics, terms)
    return {
        "q": q,
        "total": svc.count_items(),
        "everything": pages.feed_summary(svc, FeedRef("all")),
        "agencies": agencies,
        "agency_groups": pages.agency_groups(agencies),
        "topics": topics,
        "feed_count": len(all_agencies) + len(all_topics),
        "match_count": sum(row.match for row in agencies) + len(topics),
        "base": site_base(),
        "now": datetime.now(UTC),
    }


def opml_search_groups(query: PageQuery) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The OPML of one search (`/feeds.opml?q=`): its Atom feed and its page."""
    base, params = base_url(), urlencode(query.params(after=None, before=None), doseq=True)
    title = service().meta(searchpage.SEARCH, query.lang, query).title
    return [("Search", [(title, f"{base}/search.atom?{params}", f"{base}/search?{params}")])]


def opml_groups() -> list[tuple[str, list[tuple[str, str, str]]]]:
    base = base_url()
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
