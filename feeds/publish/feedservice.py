"""Feeds as served: resolve a feed, read its page from the store, render it once per content
version and keep the bytes (plain and gzipped) with their validators.

A request for an unchanged feed costs one lookup of the content version and a dictionary
lookup; rendering happens only when an ingest changed something. Only canonical pages (a
feed's first page with no query, for a shared base URL) go to the store shared by every
process; every other variant is rendered on demand, at most `max_renders` at once, and kept
in a cache of this process bounded in bytes. While the store cannot be reached, what this
process made before is served as it was.
"""

import base64
import binascii
import gzip
import hashlib
import re
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from feeds.dumps.records import KAZAKHSTAN, atom_id
from feeds.errors import FeedsError, StoreDisconnected, StoreError
from feeds.publish.catalog import Agencies
from feeds.publish.feedmodel import (
    MEDIA_TYPES,
    Category,
    Entry,
    FeedMeta,
    FeedRef,
    OtherVersion,
    PageLinks,
    content_html,
    feed_updated,
    summary_text,
)
from feeds.publish.outage import Outage, StoreUnavailable
from feeds.publish.render import RENDERERS
from feeds.publish.versioned import VersionedCache
from feeds.store import Cursor, FeedCount, FeedRows, ItemRow, Store, Summary
from feeds.text.classify import TopicRules
from feeds.text.links import (
    LANGUAGES,
    SLUG,
    find_attachments,
    html_links,
    in_language,
    text_links,
)
from feeds.text.sanitize import clean_html, html_to_text
from feeds.text.searchquery import BadSearch, SearchQuery, parse_search, quoted

DEFAULT_LIMIT, MAX_LIMIT = 50, 500
# Canonical pages kept per process: one per feed, format and shared base URL, so a bound in
# entries; every feed of a deployment with thousands of agencies fits.
CANONICAL_PAGES = 16_384
MEMO_ENTRIES = 16  # per-version values: known slugs, the Summary, language counts
VARIANT_CACHE_BYTES, MAX_RENDERS = 32_000_000, 2  # the settings' defaults


class RenderBusy(FeedsError):
    """As many pages are being rendered on demand as this process allows."""


class BadParameter(ValueError):
    """A query parameter with a bad value; the message names it."""


_SLUG = re.compile(SLUG)


@dataclass(frozen=True)
class PageQuery:
    limit: int = DEFAULT_LIMIT
    lang: str | None = None
    after: Cursor | None = None
    before: Cursor | None = None
    q: SearchQuery | None = None  # ?q= on any feed (issue 17)
    # The filters of /search.*, each repeatable (any of them): ?agency=, ?topic=; sorted, once.
    agencies: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    since: date | None = None  # ?since=, ?until= on every feed: days of publication in Almaty
    until: date | None = None

    def params(self, **changes: object) -> dict[str, str | list[str]]:
        """The query string's values (`urlencode(..., doseq=True)`), `changes` made."""
        values = {
            "q": self.q.text if self.q else None,
            "agency": list(self.agencies) or None,
            "topic": list(self.topics) or None,
            "since": self.since,
            "until": self.until,
            "limit": self.limit,
            "lang": self.lang,
            "after": None,
            "before": None,
            **changes,
        }
        if values["limit"] == DEFAULT_LIMIT:
            values["limit"] = None
        return {name: _param(v) for name, v in values.items() if v is not None}

    def published(self) -> tuple[datetime | None, datetime | None]:
        """[from, before) of publication: from the start of `since` to the end of `until`,
        in Almaty (a release at 23:30 there on the 9th is of the 9th, 18:30 UTC)."""
        start = datetime.combine(self.since, time(), KAZAKHSTAN) if self.since else None
        if self.until is None or self.until == date.max:  # no day after 9999-12-31
            return start, None
        return start, datetime.combine(self.until + timedelta(days=1), time(), KAZAKHSTAN)


def _param(value: object) -> str | list[str]:
    if isinstance(value, tuple):
        return encode_cursor(value)  # type: ignore[arg-type]
    if isinstance(value, list):
        return [str(each) for each in value]
    return value.isoformat() if isinstance(value, date) else str(value)


def feed_url(ref: FeedRef, fmt: str, query: PageQuery, base_url: str, **changes: object) -> str:
    """The absolute URL of a page of a feed (`fmt` empty: its HTML page), `changes` made to
    its query; without changes, the page's own URL (its rel="self")."""
    params = query.params(**{"after": query.after, "before": query.before, **changes})
    return f"{base_url}{ref.path(fmt)}" + (f"?{urlencode(params, doseq=True)}" if params else "")


def encode_cursor(cursor: Cursor) -> str:
    return base64.urlsafe_b64encode(f"{cursor[0]}.{cursor[1]}".encode()).decode().rstrip("=")


def decode_cursor(text: str, name: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
        key, item_id = raw.split(".")
        return int(key), int(item_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadParameter(f"bad {name}: not a cursor given by this feed's links") from None


Args = Mapping[str, str | Sequence[str]]  # a query's values: one, or each given (flat=False)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_query(args: Args, filters: bool = False) -> PageQuery:
    """Validate ?limit=, ?lang=, ?after=, ?before=, ?q=, ?since=, ?until= and (`filters`:
    /search.*) ?agency= and ?topic=, which may repeat; a bad one raises BadParameter naming
    it (never repeating a query's text). A parameter given twice is read once, from its
    first value, except those that may repeat."""
    one = {name: first for name, value in args.items() if (first := first_value(value)) is not None}
    limit = DEFAULT_LIMIT
    if "limit" in one:
        text = one["limit"]
        if not text.isdigit() or int(text) < 1 or len(text) > 9:
            raise BadParameter(
                f"bad limit: {text[:20]!r} is not a whole number from 1 (capped at {MAX_LIMIT})"
            )
        limit = min(int(text), MAX_LIMIT)
    lang = one.get("lang") or None
    if lang is not None and lang not in LANGUAGES:
        raise BadParameter(f"bad lang: {lang[:20]!r} is not one of {', '.join(LANGUAGES)}")
    after = decode_cursor(one["after"], "after") if one.get("after") else None
    before = decode_cursor(one["before"], "before") if one.get("before") else None
    if after and before:
        raise BadParameter("bad after/before: give only one of them")
    try:
        q = parse_search(one.get("q", ""))
    except BadSearch as exc:
        raise BadParameter(str(exc)) from None
    since, until = _day(one, "since"), _day(one, "until")
    if since and until and until < since:
        raise BadParameter(f"bad until: {until} is before since ({since})")
    agencies = _slug_filter(args, "agency") if filters else ()
    topics = _slug_filter(args, "topic") if filters else ()
    return PageQuery(limit, lang, after, before, q, agencies, topics, since, until)


def first_value(value: str | Sequence[str]) -> str | None:
    if isinstance(value, str):
        return value
    return value[0] if value else None


def _day(args: Mapping[str, str], name: str) -> date | None:
    """A day, as the search page's date fields and ISO 8601 write it; empty: none."""
    text = args.get(name) or None
    if text is None:
        return None
    try:
        if _DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        pass
    raise BadParameter(f"bad {name}: expected YYYY-MM-DD, a day of the calendar, not {text[:20]!r}")


def _slug_filter(args: Args, name: str) -> tuple[str, ...]:
    given = args.get(name, ())
    values = {value for value in ([given] if isinstance(given, str) else given) if value}
    for value in values:
        if not _SLUG.fullmatch(value):
            raise BadParameter(f"bad {name}: not the slug of an {name}")  # 404 needs a lookup
    return tuple(sorted(values))


def _dated(meta: FeedMeta, query: PageQuery | None) -> FeedMeta:
    """A feed narrowed to days says which, so that a reader can tell it from the whole."""
    if query is None or not (query.since or query.until):
        return meta
    if query.since == query.until:
        days = f"on {query.since}"
    else:
        days = " ".join(
            part
            for part in (query.since and f"from {query.since}", query.until and f"to {query.until}")
            if part
        )
    title, _, site = meta.title.rpartition(" – ")
    dated = f"{title} ({days}) – {site}" if title else f"{meta.title} ({days})"
    return replace(meta, title=dated)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    gzipped: bytes
    etag: str
    last_modified: datetime
    media_type: str

    def size(self) -> int:
        return len(self.body) + len(self.gzipped) + 200  # the rest, roughly


class FeedService:
    def __init__(
        self,
        store: Store,
        agencies: Agencies,
        rules: TopicRules,
        site_url: str = "",
        on_render: Callable[[], None] = lambda: None,
        hub: str = "",
        *,
        fingerprint: str = "",
        variant_bytes: int = VARIANT_CACHE_BYTES,
        max_renders: int = MAX_RENDERS,
        ttl: int | None = None,
    ) -> None:
        self.store = store
        self.agencies = agencies
        self.rules = rules
        self.site_url = site_url
        self.fingerprint = fingerprint  # of catalog, topics, templates, code (fingerprint.py)
        self.on_render = on_render
        self.hub = hub or None
        self.ttl = ttl  # minutes, the RSS <ttl>: how often the ingest may change a feed
        self.pages: VersionedCache[Rendered] = VersionedCache(CANONICAL_PAGES)
        self.variants: VersionedCache[Rendered] = VersionedCache(variant_bytes, Rendered.size)
        self.memo: VersionedCache[Any] = VersionedCache(MEMO_ENTRIES)
        self.max_renders = max_renders
        self._rendering = threading.BoundedSemaphore(max_renders)
        self.outage = Outage()
        self.renders = 0  # pages this process rendered (the rest came from a cache)
        self.last_version = 0  # the content version last read (what kept pages were made of)

    # -- the store's state -----------------------------------------------------------------

    def version(self) -> int:
        """The store's content version; StoreUnavailable when it cannot be read."""
        try:  # not `store_faults()`: this runs on every request, a generator costs more
            version = self.store.content_version()
        except StoreError as exc:
            self.outage.failed(exc)
            raise StoreUnavailable(f"store unavailable: {exc.__class__.__name__}") from exc
        self.outage.answered()
        self.last_version = version
        return version

    @contextmanager
    def store_faults(self) -> Iterator[None]:
        """Turns whatever a failing store raises into StoreUnavailable, noting the outage."""
        try:
            yield
        except StoreUnavailable as exc:
            self.outage.failed(exc)
            raise
        except StoreError as exc:
            self.outage.failed(exc)
            raise StoreUnavailable(f"store unavailable: {exc.__class__.__name__}") from exc

    def health(self) -> dict[str, Any]:
        """What /healthz says of the store: items, versions, runs and follow states."""
        store = self.store
        with self.store_faults():
            last = store.last_ingest()
            return {
                "status": "ok",
                "items": store.count_items(),
                "content_version": store.content_version(),
                "last_ingest": last.isoformat() if last else None,
                "last_good_ingest": store.get_state("last_good_ingest"),
                "last_follow": store.get_state("last_follow"),
                "follow": self._follow_health(),
            }

    def _follow_health(self) -> dict[str, Any]:
        """Follow states, and the pause of gov.kz with its reason (None when not paused):
        a portal that refuses us is said here, not only in a log."""
        now = datetime.now(UTC)
        pause = self.store.follow_pause(now)
        return {
            **self.store.follow_stats().as_dict(now),
            "paused": pause.as_dict() if pause else None,
        }

    def item(self, uid: str) -> ItemRow | None:
        """The item of one of our uids (feeds.dumps.records.item_uid), or None."""
        with self.store_faults():
            return self.store.item_by_uid(uid)

    # -- what feeds exist ------------------------------------------------------------------

    def _known_slugs(self, version: int) -> tuple[frozenset[str], dict[str, str]]:
        """Agencies with items or in the catalog; topic slug -> name (subjects and sections)."""
        return self.per_version("known", self._find_known, version)

    def _find_known(self) -> tuple[frozenset[str], dict[str, str]]:
        agencies = frozenset(self.store.agency_slugs()) | frozenset(
            a.slug for a in self.agencies.all()
        )
        topics = {t.slug: t.name for t in self.rules.topics}
        for name in self.store.section_names():
            section = self.rules.section_topic(name)
            topics[section.slug] = section.name
        return agencies, topics

    def resolve(self, kind: str, slug: str = "", version: int | None = None) -> FeedRef | None:
        """The feed, or None when no such agency or topic is known."""
        if kind in ("all", "search"):
            return FeedRef(kind)  # type: ignore[arg-type]
        if version is None:
            version = self.version()
        agencies, topics = self._known_slugs(version)
        if kind == "agency" and slug in agencies:
            return FeedRef("agency", slug)
        if kind == "topic" and slug in topics:
            return FeedRef("topic", slug)
        return None

    def per_version(
        self, name: Hashable, compute: Callable[[], Any], version: int | None = None
    ) -> Any:
        """`compute()`, done once per content version in this process: the aggregates
        behind the index, the OPML and the feed pages scan the whole store."""
        if version is None:
            version = self.version()
        hit = self.memo.get(name, version)
        if hit is not None:
            return hit
        with self.store_faults():
            value = compute()
        self.memo.put(name, version, value)
        return value

    def summary(self) -> Summary:
        """The store's aggregates for the current content version: this process's copy, else
        the copy some process (the scheduler, after each change) left in the store, else
        computed here and left there for the others."""
        return self.per_version("summary", self._shared_summary)

    def _shared_summary(self) -> Summary:
        return self.store.shared_summary(self.fingerprint)

    def agency_counts(self) -> list[FeedCount]:
        return self.summary().agencies

    def topic_counts(self) -> list[FeedCount]:
        return self.summary().topics

    def count_items(self) -> int:
        return self.summary().items

    def subtree(self, slug: str) -> frozenset[str]:
        """An agency and every agency under it, including ones the catalog does not name
        but whose slug places them there (a new "mfa-paris" is under "mfa")."""
        known, _ = self._known_slugs(self.version())
        unnamed = {other for other in known if slug in self.agencies.ancestors(other)}
        return frozenset({slug}) | self.agencies.descendants(slug) | unnamed

    def topic_names(self) -> dict[str, str]:
        return self._known_slugs(self.version())[1]

    def filters_known(self, query: PageQuery, version: int | None = None) -> bool:
        """Whether the agency and topic a search filters on exist (else 404, as for feeds)."""
        return all(self.resolve("agency", slug, version) for slug in query.agencies) and all(
            self.resolve("topic", slug, version) for slug in query.topics
        )

    def meta(
        self, ref: FeedRef, lang: str | None = None, query: PageQuery | None = None
    ) -> FeedMeta:
        meta = self._meta(ref, lang, query)
        if query is not None and query.q is not None:
            scope = meta.title.removesuffix(" – gov.kz news")
            scope = "" if scope == "gov.kz news" else f" in {scope}"
            title = f"{quoted(query.q.text)}{scope} – gov.kz news"
            meta = FeedMeta(ref, title, meta.subtitle, lang)
        return _dated(meta, query)

    def _meta(self, ref: FeedRef, lang: str | None, query: PageQuery | None) -> FeedMeta:
        if ref.kind == "search":
            filters = query or PageQuery()
            names = self.topic_names()
            scope = [
                " or ".join(self.agencies.get(slug).name for slug in filters.agencies),
                " or ".join(names.get(slug, slug) for slug in filters.topics),
            ]
            title = " · ".join(filter(None, scope)) or "gov.kz news"
            return FeedMeta(
                ref, f"{title} – gov.kz news", "Press releases on gov.kz matching a search.", lang
            )
        if ref.kind == "agency":
            agency = self.agencies.get(ref.slug)
            children = sorted(self.subtree(ref.slug) - {ref.slug})
            subtitle = f"{agency.name}: press releases on gov.kz."
            if children:
                subtitle += (
                    f" Includes its {len(children)} subordinate bodies: {', '.join(children)}."
                )
            return FeedMeta(ref, f"{agency.name} – gov.kz news", subtitle, lang)
        if ref.kind == "topic":
            name = self.topic_names().get(ref.slug, ref.slug)
            return FeedMeta(ref, f"{name} – gov.kz news", f"gov.kz press releases on {name}.", lang)
        return FeedMeta(
            ref, "gov.kz news", "Press releases of every Kazakh government agency on gov.kz.", lang
        )

    # -- pages -----------------------------------------------------------------------------

    def rows(self, ref: FeedRef, query: PageQuery) -> FeedRows:
        agencies = (ref.slug,) if ref.kind == "agency" else query.agencies
        topics = (ref.slug,) if ref.kind == "topic" else query.topics
        return self.store.feed_rows(
            limit=query.limit,
            agencies=frozenset().union(*map(self.subtree, agencies)) if agencies else None,
            topics=frozenset(topics) if topics else None,
            lang=query.lang,
            after=query.after,
            before=query.before,
            search=query.q,
            published=query.published(),
        )

    def entry(self, row: ItemRow, base_url: str) -> Entry:
        agency = self.agencies.get(row.agency) if row.agency else None
        names = self.topic_names()
        link = self._link(row.link, row.lang, row.uid, base_url)
        others = tuple(
            OtherVersion(v.lang, v.uid, self._link(v.link, v.lang, v.uid, base_url))
            for v in row.versions
        )
        return Entry(
            id=atom_id(row.key),
            uid=row.uid,
            title=row.api_title or row.title,
            link=link,
            author=agency.name_in(row.lang) if agency else "gov.kz",
            categories=tuple(Category(t, names.get(t, t)) for t in row.topics),
            content_html=clean_html(row.api_body_html)
            if row.api_body_html
            else content_html(row.body, link),
            summary=summary_text(
                html_to_text(row.api_body_html) if row.api_body_html else row.body
            ),
            published=row.published.astimezone(KAZAKHSTAN),
            updated=row.updated.astimezone(KAZAKHSTAN),
            lang=row.lang,
            # The release's image, whichever version's answer brought it.
            image=row.api_image or next((v.image for v in row.versions if v.image), None),
            other_sources=tuple(filter(None, row.other_sources.split("\n"))),
            others=others,
            # From the text a reader is shown (the API's once followed), when rendered: the
            # stored text is enough, so no column and no migration.
            attachments=find_attachments(
                html_links(row.api_body_html) if row.api_body_html else text_links(row.body)
            ),
        )

    @staticmethod
    def _link(link: str | None, lang: str, uid: str, base_url: str) -> str:
        """A version's gov.kz page in its own language (scrapers write their interface's
        ?lang=, not the text's), or our permalink when the dump gave no link."""
        return in_language(link, lang) if link else f"{base_url}/items/{uid}"

    def page_links(
        self, ref: FeedRef, fmt: str, query: PageQuery, page: FeedRows, base_url: str
    ) -> PageLinks:
        def url(**changes: object) -> str:
            return feed_url(ref, fmt, query, base_url, **{"after": None, "before": None, **changes})

        rows = page.rows
        older = bool(rows) and (page.more or query.before is not None)
        newer = bool(rows) and (query.after is not None or (query.before is not None and page.more))
        alternate = f"{base_url}{ref.path()}"
        if ref.kind == "search" and (params := query.params(limit=None)):
            alternate += f"?{urlencode(params, doseq=True)}"  # the search page of the same search
        return PageLinks(
            self=feed_url(ref, fmt, query, base_url),
            alternate=alternate,
            first=url(),
            icon=f"{base_url}/static/icon.png",
            next=url(after=rows[-1].cursor) if older else None,
            previous=url(before=rows[0].cursor) if newer else None,
            hub=self.hub,
        )

    def link_header(self, ref: FeedRef, fmt: str, query: PageQuery, base_url: str) -> str:
        """The HTTP `Link` of a feed's page (WebSub section 4: the hub, and exactly one self,
        the topic a subscriber subscribes to): the same URLs as the body's links."""
        self_url = feed_url(ref, fmt, query, self.site_url or base_url)
        hub = [f'<{self.hub}>; rel="hub"'] if self.hub else []
        return ", ".join([*hub, f'<{self_url}>; rel="self"'])

    def feed(
        self, kind: str, slug: str, fmt: str, query: PageQuery, base_url: str, shared: bool = True
    ) -> Rendered | None:
        """The page of a feed; None when there is no such feed. While the store is down,
        the copy this process made before, else StoreUnavailable."""
        ref = FeedRef("all") if kind == "all" else FeedRef(kind, slug)  # type: ignore[arg-type]
        try:
            version = self.version()
            if self.resolve(kind, slug, version) is None or not self.filters_known(query, version):
                return None
            return self.render(ref, fmt, query, base_url, version, shared)
        except StoreUnavailable:
            key = (ref, fmt, query, self.site_url or base_url)
            stale = self._cache_of(query, shared).latest(key)
            if stale is None:
                raise
            return stale

    def _cache_of(self, query: PageQuery, shared: bool) -> VersionedCache[Rendered]:
        """Canonical pages (what pollers poll) or variants (rendered on demand)."""
        return self.pages if shared and query == PageQuery() else self.variants

    def render(
        self,
        ref: FeedRef,
        fmt: str,
        query: PageQuery,
        base_url: str,
        version: int | None = None,
        shared: bool = True,
    ) -> Rendered:
        """The page's bytes. A canonical page (no query, `shared` base URL) is rendered at
        most once per content version in the deployment: this process's memory first, then
        the store's shared copy, then a real render. Any other page is rendered here, at
        most `max_renders` at once (RenderBusy beyond), and kept in this process only.
        StoreUnavailable when the store fails (`feed` then serves what was made before)."""
        base_url = self.site_url or base_url
        key = (ref, fmt, query, base_url)
        cache = self._cache_of(query, shared)
        if version is None:
            version = self.version()
        hit = cache.get(key, version)
        if hit is not None:
            return hit
        make = self._shared if cache is self.pages else lambda k, _: self._variant(k)
        with self.store_faults():
            try:
                made = make(key, version)
            except StoreDisconnected:  # dropped after the pool's ping: once more, on a new one
                made = make(key, version)
        cache.put(key, version, made)
        return made

    def _shared(self, key: tuple[FeedRef, str, PageQuery, str], version: int) -> Rendered:
        # The fingerprint of catalog, topics, templates and code is part of the key: a
        # deploy that changed any of them never reads the pages of the one before.
        shared_key = hashlib.sha256(repr((self.fingerprint, *key)).encode()).hexdigest()
        row = self.store.get_rendered(shared_key, version)
        if row is not None:
            return Rendered(**{k: row[k] for k in Rendered.__dataclass_fields__})
        rendered = self._counted_render(*key)
        self.store.put_rendered(shared_key, version, asdict(rendered))
        return rendered

    def _variant(self, key: tuple[FeedRef, str, PageQuery, str]) -> Rendered:
        with self.rendering_slot():
            return self._counted_render(*key)

    @contextmanager
    def rendering_slot(self) -> Iterator[None]:
        """One of the `max_renders` slots of renders on demand (HTML feed pages with a query
        take one too); RenderBusy when none is free."""
        if not self._rendering.acquire(blocking=False):
            raise RenderBusy(f"already rendering {self.max_renders} pages on demand")
        try:
            yield
        finally:
            self._rendering.release()

    def _counted_render(self, ref: FeedRef, fmt: str, query: PageQuery, base: str) -> Rendered:
        rendered = self._render(ref, fmt, query, base)
        self.renders += 1
        self.on_render()
        return rendered

    def _render(self, ref: FeedRef, fmt: str, query: PageQuery, base_url: str) -> Rendered:
        page = self.rows(ref, query)
        entries = [self.entry(row, base_url) for row in page.rows]
        links = self.page_links(ref, fmt, query, page, base_url)
        meta = replace(self.meta(ref, query.lang, query), ttl=self.ttl)
        body = RENDERERS[fmt](meta, entries, links)
        return Rendered(
            body=body,
            gzipped=gzip.compress(body, compresslevel=6, mtime=0),
            etag=hashlib.sha256(body).hexdigest()[:32],
            last_modified=feed_updated(entries),
            media_type=MEDIA_TYPES[fmt],
        )
