"""A feed's HTML page: at its own URL (/agencies/<slug>, /topics/<slug>) and at a feed URL
opened in a browser tab."""

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, render_template, request

from feeds.publish.feedmodel import FORMATS, FeedRef
from feeds.publish.feedservice import BadParameter, PageQuery, parse_query
from feeds.text.links import LANGUAGE_ORDER, LANGUAGE_SELF_NAMES
from feeds.web import pages
from feeds.web.views.respond import base_url, plain, service, site_base, with_link


def register(app: Flask) -> None:
    app.get("/agencies/<slug:slug>")(agency_page)
    app.get("/topics/<slug:slug>")(topic_page)


def agency_page(slug: str) -> Response | str:
    return page("agency", slug)


def topic_page(slug: str) -> Response | str:
    return page("topic", slug)


def page(kind: str, slug: str) -> Response | str:
    ref = service().resolve(kind, slug)
    if ref is None:
        return plain(404, f"unknown {kind} {slug!r}")
    try:
        query = parse_query(request.args.to_dict(flat=False))
    except BadParameter as exc:
        return plain(400, str(exc))
    return with_link(Response(feed_page_html(ref, query), mimetype="text/html"), ref, "", query)


def feed_page_at_feed_url(ref: FeedRef, fmt: str, query: PageQuery) -> Response:
    """The feed's page for a browser tab that opened the feed's URL. Without the feed's
    validators: a browser holding the feed must not be told with a 304 that it holds this."""
    html = feed_page_html(ref, query, fmt)
    return pages.vary_as_a_feed_url(
        with_link(Response(html, mimetype="text/html"), ref, fmt, query)
    )


def feed_page_html(ref: FeedRef, query: PageQuery, fmt: str = "") -> str:
    """A feed's HTML page, at its own URL or (`fmt`) at a feed URL opened in a browser."""
    if not request.query_string:  # a feed's own page: as bounded as its canonical feed
        return render_template("feed.html", **feed_page_context(ref, query, fmt))
    with service().rendering_slot():  # any other page of it is a variant, rendered on demand
        return render_template("feed.html", **feed_page_context(ref, query, fmt))


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
