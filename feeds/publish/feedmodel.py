"""Pure view model of feeds: what a feed and its entries say, whatever the format.

Built from store rows and the catalog of agencies and topics; rendered by `feeds.publish.render`.
"""

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from feeds.dumps.records import KAZAKHSTAN
from feeds.text.links import Attachment
from feeds.text.textclean import paragraphs

FeedKind = Literal["all", "agency", "topic", "search"]
FORMATS = ("atom", "rss", "json")
MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
SUMMARY_CHARS = 300


@dataclass(frozen=True)
class FeedRef:
    """Which feed: everything, one agency (with its children) or one topic."""

    kind: FeedKind
    slug: str = ""

    def path(self, fmt: str | None = None) -> str:
        """Site-relative path of the feed (`fmt` given) or of its HTML page."""
        base = {
            "all": "/all",
            "agency": f"/agencies/{self.slug}",
            "topic": f"/topics/{self.slug}",
            "search": "/search",
        }
        if fmt:
            return f"{base[self.kind]}.{fmt}"
        return "/" if self.kind == "all" else base[self.kind]


@dataclass(frozen=True)
class Category:
    term: str
    label: str


@dataclass(frozen=True)
class OtherVersion:
    """The same release in another language: its entry's page and its gov.kz page."""

    lang: str
    uid: str
    link: str  # the gov.kz page in that language, or our permalink


@dataclass(frozen=True)
class Entry:
    id: str
    uid: str
    title: str
    link: str  # the gov.kz page, or our permalink for items without one
    author: str
    categories: tuple[Category, ...]
    content_html: str
    summary: str
    published: datetime
    updated: datetime
    lang: str
    image: str | None = None
    other_sources: tuple[str, ...] = ()
    others: tuple[OtherVersion, ...] = ()  # the release's other versions
    attachments: tuple[Attachment, ...] = ()  # files on gov.kz its text links


@dataclass(frozen=True)
class FeedMeta:
    ref: FeedRef
    title: str
    subtitle: str
    lang: str | None = None
    ttl: int | None = None  # minutes a reader may keep it (RSS <ttl>): the ingest's cadence


@dataclass(frozen=True)
class PageLinks:
    """Absolute URLs of a page of a feed (RFC 5005 paging)."""

    self: str
    alternate: str
    first: str
    icon: str
    next: str | None = None
    previous: str | None = None
    hub: str | None = None  # WebSub


def content_html(body: str, link: str) -> str:
    """Plain dump text as HTML paragraphs, escaped; a pointer to the page when the dump had
    no text (feed readers would show an empty entry)."""
    if not body:
        href = html.escape(link)
        return f'<p>The full text is on <a href="{href}">{href}</a>.</p>'
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs(body))


def summary_text(body: str, limit: int = SUMMARY_CHARS) -> str:
    """The first paragraph, cut at a word boundary."""
    first = next(iter(paragraphs(body)), "")
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0].rstrip(",;:–— ")
    return f"{cut}…"


def feed_updated(entries: list[Entry]) -> datetime:
    """When this page's content last changed; a fixed moment for an empty page so that
    its validators stay put."""
    if not entries:
        return datetime(2000, 1, 1, tzinfo=KAZAKHSTAN)
    return max(entry.updated for entry in entries)


def enclosure(entry: Entry) -> Attachment | None:
    """The one file RSS 2.0 allows an item: its first document, else its image (the hero
    image, else the first picture its text links)."""
    documents = [each for each in entry.attachments if not each.is_image]
    if documents:
        return documents[0]
    if entry.image:
        return Attachment(entry.image, image_type(entry.image), "")
    return next(iter(entry.attachments), None)


def image_type(url: str) -> str:
    lower = url.lower().split("?")[0]
    for suffix, media in ((".png", "image/png"), (".gif", "image/gif"), (".webp", "image/webp")):
        if lower.endswith(suffix):
            return media
    return "image/jpeg"
