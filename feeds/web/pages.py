"""What the HTML pages show (SPEC section 5): the index's rows of feeds, their language mix and
the search that narrows them, and the header of a feed page.

Built only from what the feed service exposes; `feeds.web` turns it into template context.
The search is the same on both sides: here for `?q=` (no JavaScript needed) and in
`static/pages.js` as you type. A row matches when every word of the query occurs in its
search text (slug and names, lower-cased); the ancestors of a matching agency stay listed,
marked as context, so that the tree still reads.

An Atom or RSS URL opened in a browser tab is answered with its feed's page (see the end).
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from flask import Response, request

from feeds.dumps.records import KAZAKHSTAN
from feeds.publish.catalog import Agency
from feeds.publish.feedmodel import FeedRef
from feeds.publish.feedservice import FeedService
from feeds.store import FeedCount
from feeds.text.links import GOVKZ_HOSTS, LANGUAGE_ORDER, split_url

LanguageMix = tuple[tuple[str, int], ...]  # (lang, items), most items first


class AgencyRow(NamedTuple):
    """One agency of the index; starts like the (agency, items, last, depth) rows OPML reads."""

    agency: Agency
    items: int
    last_updated: datetime | None
    depth: int
    languages: LanguageMix = ()
    parent: str = ""  # the nearest ancestor listed in the index ("" for a group's head)
    search: str = ""
    match: bool = True  # False: listed only as the ancestor of a match


class TopicRow(NamedTuple):
    """One topic of the index; starts like the (slug, name, items, last) rows OPML reads."""

    slug: str
    name: str
    items: int
    last_updated: datetime | None
    languages: LanguageMix = ()
    search: str = ""
    match: bool = True


# -- language mix ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageCounts:
    """Items per language: of everything, of each agency (its own items) and of each topic."""

    everything: Mapping[str, int] = field(default_factory=dict)
    agencies: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    topics: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


def _language_counts(counts: Mapping[tuple[str, str], Mapping[str, int]]) -> LanguageCounts:
    """The store's counts per language, as the pages use them."""

    def of(kind: str) -> dict[str, Counter[str]]:
        return {slug: Counter(langs) for (k, slug), langs in counts.items() if k == kind}

    return LanguageCounts(Counter(counts.get(("all", ""), {})), of("agency"), of("topic"))


def language_counts(service: FeedService) -> LanguageCounts:
    """The counts for the store's current content version, computed once per version."""
    return service.per_version(
        "language_counts", lambda: _language_counts(service.summary().languages)
    )


def language_mix(counts: Iterable[Mapping[str, int]]) -> LanguageMix:
    """The sum of some counts, most items first (en, ru, kk on ties)."""
    total: Counter[str] = Counter()
    for one in counts:
        total.update(one)

    def order(lang: str) -> tuple[int, int, str]:
        known = LANGUAGE_ORDER.index(lang) if lang in LANGUAGE_ORDER else len(LANGUAGE_ORDER)
        return (-total[lang], known, lang)

    return tuple((lang, total[lang]) for lang in sorted(total, key=order) if total[lang])


# -- search ---------------------------------------------------------------------------------


def local_time(moment: datetime | None) -> datetime | None:
    """A stored (UTC) time as gov.kz dates its items: Kazakhstan time."""
    return moment.astimezone(KAZAKHSTAN) if moment else None


def latest(counts: Iterable[FeedCount]) -> datetime | None:
    return local_time(max((c.last_updated for c in counts if c.last_updated), default=None))


def search_terms(query: str) -> list[str]:
    return query.lower().split()


def search_text(*parts: str) -> str:
    return " ".join(" ".join(part.lower().split()) for part in parts if part)


def matches(text: str, terms: list[str]) -> bool:
    return all(term in text for term in terms)


# -- the index ------------------------------------------------------------------------------


def agency_rows(service: FeedService, counts: LanguageCounts) -> list[AgencyRow]:
    """Every agency with items in its feed (its own or its children's), in tree order: each
    group's head followed by its children, depth first, slugs in alphabetical order."""
    catalog = service.agencies
    by_slug = {row.name: row for row in service.agency_counts()}
    rows: dict[str, AgencyRow] = {}
    for slug in sorted(set(by_slug) | {a.slug for a in catalog.all()}):
        subtree = service.subtree(slug)
        counted = [by_slug[s] for s in subtree if s in by_slug]
        if not counted:
            continue
        agency = catalog.get(slug)
        rows[slug] = AgencyRow(
            agency=agency,
            items=sum(c.items for c in counted),
            last_updated=latest(counted),
            depth=len(catalog.ancestors(slug)),
            languages=language_mix(counts.agencies.get(s, {}) for s in subtree),
            search=search_text(slug, agency.name, agency.name_ru, agency.name_kk),
        )
    children: dict[str, list[str]] = {}
    heads: list[str] = []
    for slug in rows:
        parent = next((a for a in catalog.ancestors(slug) if a in rows), "")
        rows[slug] = rows[slug]._replace(parent=parent)
        (children.setdefault(parent, []) if parent else heads).append(slug)
    ordered: list[AgencyRow] = []

    def visit(slug: str) -> None:
        ordered.append(rows[slug])
        for child in sorted(children.get(slug, ())):
            visit(child)

    for slug in sorted(heads):
        visit(slug)
    return ordered


def topic_rows(service: FeedService, counts: LanguageCounts) -> list[TopicRow]:
    """Every topic with items, by slug."""
    names = service.topic_names()
    translated = {topic.slug: topic for topic in service.rules.topics}
    translated.update({topic.slug: topic for topic in service.rules.sections.values()})
    rows = []
    for row in service.topic_counts():
        slug = row.name
        name = names.get(slug, slug)
        topic = translated.get(slug)
        other_names = (topic.name_ru, topic.name_kk) if topic else ()
        rows.append(
            TopicRow(
                slug=slug,
                name=name,
                items=row.items,
                last_updated=local_time(row.last_updated),
                languages=language_mix([counts.topics.get(slug, {})]),
                search=search_text(slug, name, *other_names),
            )
        )
    return rows


def filter_agencies(rows: list[AgencyRow], terms: list[str]) -> list[AgencyRow]:
    """The matching rows and, marked `match=False`, their listed ancestors."""
    if not terms:
        return rows
    wanted: set[str] = set()
    kept: list[AgencyRow] = []
    for row in reversed(rows):  # children come after their parents
        match = matches(row.search, terms)
        if match or row.agency.slug in wanted:
            kept.append(row._replace(match=match))
            if row.parent:
                wanted.add(row.parent)
    kept.reverse()
    return kept


def filter_topics(rows: list[TopicRow], terms: list[str]) -> list[TopicRow]:
    return [row for row in rows if matches(row.search, terms)] if terms else rows


def agency_groups(rows: list[AgencyRow]) -> list[list[AgencyRow]]:
    """Consecutive rows cut before each group's head (a row without a listed parent)."""
    groups: list[list[AgencyRow]] = []
    for row in rows:
        if not row.parent or not groups:
            groups.append([])
        groups[-1].append(row)
    return groups


# -- a feed page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSummary:
    """What a feed page says about its feed as a whole."""

    name: str
    items: int
    last_updated: datetime | None
    languages: LanguageMix
    ancestors: tuple[Agency, ...] = ()  # agency feeds: parent first... up to the root
    children: tuple[Agency, ...] = ()  # agency feeds: the subordinate bodies it includes


def feed_summary(service: FeedService, ref: FeedRef) -> FeedSummary:
    counts = language_counts(service)
    if ref.kind == "agency":
        catalog = service.agencies
        subtree = service.subtree(ref.slug)
        counted = [row for row in service.agency_counts() if row.name in subtree]
        return FeedSummary(
            name=catalog.get(ref.slug).name,
            items=sum(row.items for row in counted),
            last_updated=latest(counted),
            languages=language_mix(counts.agencies.get(s, {}) for s in subtree),
            ancestors=tuple(catalog.get(a) for a in reversed(catalog.ancestors(ref.slug))),
            children=tuple(catalog.get(s) for s in catalog.children(ref.slug)),
        )
    if ref.kind == "topic":
        row = next((r for r in service.topic_counts() if r.name == ref.slug), None)
        return FeedSummary(
            name=service.topic_names().get(ref.slug, ref.slug),
            items=row.items if row else 0,
            last_updated=local_time(row.last_updated) if row else None,
            languages=language_mix([counts.topics.get(ref.slug, {})]),
        )
    return FeedSummary(
        name="All gov.kz news",
        items=service.count_items(),
        last_updated=latest(service.topic_counts()),  # every item has a section topic
        languages=language_mix([counts.everything]),
    )


def is_govkz(url: str) -> bool:
    """Whether a link goes to the gov.kz portal (the pages link there and nowhere else)."""
    parts = split_url(url)
    return parts is not None and parts.scheme in ("http", "https") and parts.hostname in GOVKZ_HOSTS


# -- feeds opened in a browser tab ----------------------------------------------------------

# The feed types whose URL, opened in a browser tab, shows the feed's HTML page instead of the
# feed: browsers show Atom and RSS as raw XML or download them, and XSLT, which used to dress
# them up, is being removed from browsers. A JSON Feed stays JSON: browsers show it as text.
STYLED_FEED_TYPES = frozenset({"application/atom+xml", "application/rss+xml"})
# Both answers at such a URL, the feed and its page, name the request headers that choose
# between them (and gzip), so that caches keep them apart; the fast path sends the same.
FEED_URL_VARY = ("Accept-Encoding", "Sec-Fetch-Dest", "Accept")


def is_browser_tab() -> bool:
    """Whether the request is a browser opening a page: Fetch Metadata says so (sent to https
    and localhost), or, without it, the client prefers HTML to feeds (feed readers do not)."""
    destination = request.headers.get("Sec-Fetch-Dest")
    if destination is not None:
        return destination in ("document", "iframe")
    accept = request.accept_mimetypes
    return accept["text/html"] > max(accept[kind] for kind in STYLED_FEED_TYPES)


def shows_page(media_type: str) -> bool:
    """Whether a request for a feed of `media_type` gets the feed's HTML page instead."""
    return media_type in STYLED_FEED_TYPES and is_browser_tab()


def vary_as_a_feed_url(response: Response) -> Response:
    response.vary.update(FEED_URL_VARY)
    return response


def feeds_for_browsers(response: Response) -> Response:
    """`after_request`: an Atom or RSS feed says that it varies as its page does (see
    `FEED_URL_VARY`); same bytes and validators for every client that gets the feed."""
    if response.mimetype in STYLED_FEED_TYPES:
        vary_as_a_feed_url(response)
    return response
