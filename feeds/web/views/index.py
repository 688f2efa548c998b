"""The index of every feed (/) and the OPML of them (/feeds.opml), or of one search."""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, render_template, request

from feeds.publish.feedmodel import FeedRef
from feeds.publish.feedservice import BadParameter, PageQuery, parse_query
from feeds.publish.render import render_opml
from feeds.web import pages, searchpage
from feeds.web.views.respond import base_url, plain, service, site_base


def register(app: Flask) -> None:
    app.get("/")(index)
    app.get("/feeds.opml")(opml)


def index() -> str:
    return render_template("index.html", **index_context(request.args.get("q", "")))


def opml() -> Response:
    try:  # ?q=: the feeds of that search (of everything, and of each format), nothing else
        query = parse_query(request.args.to_dict(flat=False), filters=True)
    except BadParameter as exc:
        return plain(400, str(exc))
    groups = opml_search_groups(query) if query.q else opml_groups()
    body = render_opml("gov.kz news feeds", groups)
    return Response(body, mimetype="text/x-opml")


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
