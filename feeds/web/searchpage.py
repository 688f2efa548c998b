"""The search page, `/search?q=...&agency=...&topic=...&lang=...` (issue 17): its results
(title, agency, date, a snippet with the matched words marked), its filters, and the feed URLs
of this very search with a box to subscribe, as the feed pages have.

Built only from what the feed service exposes; `feeds.web` renders it with search.html.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from feeds.publish.feedmodel import FORMATS, Entry, FeedRef
from feeds.publish.feedservice import (
    Args,
    BadParameter,
    FeedService,
    PageQuery,
    first_value,
    parse_query,
)
from feeds.store import ItemRow
from feeds.text.links import LANGUAGE_ORDER, LANGUAGE_SELF_NAMES
from feeds.text.sanitize import html_to_text
from feeds.text.searchquery import MAX_QUERY_CHARS, clean
from feeds.text.snippet import Piece, snippet

SEARCH = FeedRef("search")


@dataclass(frozen=True)
class Result:
    entry: Entry
    snippet: list[Piece]


def result(service: FeedService, row: ItemRow, query: PageQuery, base_url: str) -> Result:
    entry = service.entry(row, base_url)
    text = html_to_text(row.api_body_html) if row.api_body_html else row.body
    pieces = snippet(text, query.q, row.lang) if query.q else [(entry.summary, False)]
    return Result(entry, pieces)


def search_context(service: FeedService, args: Args, base_url: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, template context): 400 for a bad query, 404 for an unknown filter (the
    page still shows the form), 200 otherwise; results only when something was asked."""
    context: dict[str, Any] = {
        "q": clean(first_value(args.get("q", "")) or "")[
            :MAX_QUERY_CHARS
        ],  # what the box shows again
        "filters": _filter_options(service),
        "query": PageQuery(),
        "results": None,
        "error": "",
    }
    try:
        query = parse_query(args, filters=True)
    except BadParameter as exc:
        return 400, {**context, "error": str(exc)}
    context["query"] = query
    if not service.filters_known(query):
        return 404, {**context, "error": "unknown agency or topic"}
    if query == PageQuery(limit=query.limit, lang=query.lang):  # nothing asked yet
        return 200, context
    with service.rendering_slot():  # a variant: rendered on demand, within the bounds
        page = service.rows(SEARCH, query)
        results = [result(service, row, query, base_url) for row in page.rows]
    links = service.page_links(SEARCH, "", query, page, base_url)
    params = query.params(after=None, before=None)
    query_string = urlencode(params, doseq=True)
    feed_urls = {fmt: f"{base_url}/search.{fmt}?{query_string}" for fmt in FORMATS}
    return 200, {
        **context,
        "results": results,
        "meta": service.meta(SEARCH, query.lang, query),
        "feed_urls": feed_urls,
        "copy_url": feed_urls["atom"],
        "feed_params": params,
        "next": links.next,
        "previous": links.previous,
    }


def _filter_options(service: FeedService) -> dict[str, list[tuple[str, str]]]:
    agencies = sorted(
        ((count.name, service.agencies.get(count.name).name) for count in service.agency_counts()),
        key=lambda pair: pair[1].casefold(),
    )
    topics = sorted(
        (
            (count.name, service.topic_names().get(count.name, count.name))
            for count in service.topic_counts()
        ),
        key=lambda pair: pair[1].casefold(),
    )
    languages = [(lang, LANGUAGE_SELF_NAMES[lang]) for lang in LANGUAGE_ORDER]
    return {"agency": agencies, "topic": topics, "lang": languages}
