"""Pure rendering of a feed page to Atom and RSS 2.0 (feedgen), JSON Feed 1.1 and OPML 2.0.

Nothing here reads a clock: the same entries give the same bytes, so validators (ETag,
Last-Modified) move only when content moves.
"""

import html
import json
from collections.abc import Iterable

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree as ElementTree  # feedgen builds lxml trees; its extensions must too

from feeds import __version__
from feeds.publish.feedmodel import (
    Entry,
    FeedMeta,
    OtherVersion,
    PageLinks,
    enclosure,
    feed_updated,
    image_type,
)
from feeds.text.links import Attachment

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
GENERATOR = ("feeds", __version__)


class _EntryExtras(BaseEntryExtension):
    """What feedgen 1.0 cannot write for an entry: xml:lang, the attributes of the alternate
    link (its entry writer drops rel/type/hreflang: it shadows the link dict with the new
    element) and the image and documents as enclosures (which would otherwise lose their rel
    too; RSS 2.0 has one enclosure an item)."""

    def __init__(self) -> None:
        self.lang: str | None = None
        self.image: str | None = None
        self.others: tuple[OtherVersion, ...] = ()
        self.attachments: tuple[Attachment, ...] = ()
        self.enclosure: Attachment | None = None

    def extend_atom(self, entry):  # type: ignore[no-untyped-def]
        if self.lang:
            entry.attrib[XML_LANG] = self.lang
        # feedgen's elements carry no namespace (the root's default one applies): so do ours.
        for link in entry.findall("link"):
            link.attrib.update({"rel": "alternate", "type": "text/html"})
            if self.lang:
                link.attrib["hreflang"] = self.lang
        # The release in its other languages (RFC 4287 4.2.7.4: one alternate per type and
        # hreflang), so a reader can offer "also in Русский".
        for other in self.others:
            ElementTree.SubElement(
                entry,
                "link",
                rel="alternate",
                type="text/html",
                hreflang=other.lang,
                href=other.link,
            )
        if self.image:
            ElementTree.SubElement(
                entry,
                "link",
                rel="enclosure",
                href=self.image,
                type=image_type(self.image),
            )
        for each in self.attachments:
            if each.url != self.image:  # no length: we never fetch the files
                ElementTree.SubElement(
                    entry,
                    "link",
                    rel="enclosure",
                    href=each.url,
                    type=each.mime_type,
                    title=each.title,
                )
        return entry

    def extend_rss(self, item):  # type: ignore[no-untyped-def]
        if self.enclosure:  # RSS 2.0 requires a length; 0 says it is not known
            ElementTree.SubElement(
                item, "enclosure", url=self.enclosure.url, length="0", type=self.enclosure.mime_type
            )
        return item


class _Paging(BaseExtension):
    """RFC 5005 links in RSS as atom:link (feedgen writes only rel=self there)."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {"atom": ATOM_NS}

    def extend_rss(self, feed):  # type: ignore[no-untyped-def]
        channel = feed[0]
        for rel, href in self.links:
            ElementTree.SubElement(channel, f"{{{ATOM_NS}}}link", rel=rel, href=href)
        return feed


def _paging_links(links: PageLinks) -> list[tuple[str, str]]:
    pairs = [("hub", links.hub)] if links.hub else []
    pairs.append(("first", links.first))
    if links.previous:
        pairs.append(("previous", links.previous))
    if links.next:
        pairs.append(("next", links.next))
    return pairs


def _generator(meta: FeedMeta, entries: list[Entry], links: PageLinks, fmt: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.register_extension("paging", _Paging, BaseEntryExtension, atom=False, rss=True)
    fg.register_extension("extras", BaseExtension, _EntryExtras, atom=True, rss=True)
    fg.load_extension("media", atom=False, rss=True)  # Media RSS: the image, for RSS readers
    fg.id(links.alternate)
    fg.title(meta.title)
    fg.subtitle(_plain_text(meta.subtitle, fmt))
    fg.author({"name": "gov.kz"})
    self_type = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
    fg.link(href=links.self, rel="self", type=self_type)
    if fmt == "atom":
        for rel, href in _paging_links(links):
            fg.link(href=href, rel=rel, type="application/atom+xml")
    else:
        fg.paging.links = _paging_links(links)
    # Last: feedgen takes the RSS channel's <link> from the last link given.
    fg.link(href=links.alternate, rel="alternate", type="text/html")
    fg.icon(links.icon)
    fg.logo(links.icon)
    fg.generator(*GENERATOR)
    if meta.lang:
        fg.language(meta.lang)
    if meta.ttl:  # RSS only: feedgen's Atom has no such element
        fg.ttl(meta.ttl)
    fg.updated(feed_updated(entries))
    fg.lastBuildDate(feed_updated(entries))
    for entry in entries:
        _add_entry(fg, entry, fmt)
    return fg


def _plain_text(text: str, fmt: str) -> str:
    """Text for a subtitle or summary. feedgen writes these into RSS <description>s, which
    readers take as HTML: there the text goes HTML-escaped, so that "<script>" in a dump
    stays words (Atom's subtitle and summary are type="text" and need nothing)."""
    return html.escape(text, quote=False) if fmt == "rss" else text


def _add_entry(fg: FeedGenerator, entry: Entry, fmt: str) -> None:
    fe = fg.add_entry(order="append")
    fe.id(entry.id)
    fe.guid(entry.id, permalink=False)
    fe.title(entry.title)
    fe.link(href=entry.link, rel="alternate")
    fe.author({"name": entry.author})
    for category in entry.categories:
        fe.category(term=category.term, label=category.label)
    if entry.content_html:
        fe.content(entry.content_html, type="html")
    if entry.summary:
        fe.summary(_plain_text(entry.summary, fmt))
    fe.published(entry.published)
    fe.updated(entry.updated)
    fe.extras.lang = entry.lang
    fe.extras.image = entry.image
    fe.extras.others = entry.others
    fe.extras.attachments = entry.attachments
    fe.extras.enclosure = enclosure(entry)
    picture = entry.image or next((a.url for a in entry.attachments if a.is_image), None)
    if picture and fmt == "rss":
        fe.media.content(url=picture, type=image_type(picture), medium="image", group=None)
        fe.media.thumbnail(url=picture, group=None)


def render_atom(meta: FeedMeta, entries: list[Entry], links: PageLinks) -> bytes:
    return _generator(meta, entries, links, "atom").atom_str(pretty=False)


def render_rss(meta: FeedMeta, entries: list[Entry], links: PageLinks) -> bytes:
    return _generator(meta, entries, links, "rss").rss_str(pretty=False)


def render_json(meta: FeedMeta, entries: list[Entry], links: PageLinks) -> bytes:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1); no kept library writes it."""
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta.title,
        "home_page_url": links.alternate,
        "feed_url": links.self,
        "description": meta.subtitle,
        "icon": links.icon,
        "favicon": links.icon,
        "authors": [{"name": "gov.kz"}],
        "items": [_json_item(entry) for entry in entries],
    }
    if meta.lang:
        feed["language"] = meta.lang
    if links.next:
        feed["next_url"] = links.next
    if links.hub:
        feed["hubs"] = [{"type": "WebSub", "url": links.hub}]
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode()


def _json_item(entry: Entry) -> dict[str, object]:
    item: dict[str, object] = {
        "id": entry.id,
        "url": entry.link,
        "title": entry.title,
        "content_html": entry.content_html or "<p></p>",
        "summary": entry.summary,
        "date_published": entry.published.isoformat(),
        "date_modified": entry.updated.isoformat(),
        "authors": [{"name": entry.author}],
        "tags": [category.label for category in entry.categories],
        "language": entry.lang,
    }
    if entry.image:
        item["image"] = entry.image
    if entry.attachments:
        item["attachments"] = [
            {"url": each.url, "mime_type": each.mime_type, "title": each.title}
            for each in entry.attachments
        ]
    if entry.other_sources:
        item["external_url"] = entry.other_sources[0]
    return item


RENDERERS = {"atom": render_atom, "rss": render_rss, "json": render_json}


def render_opml(title: str, outlines: Iterable[tuple[str, list[tuple[str, str, str]]]]) -> bytes:
    """OPML 2.0: groups of (text, feed URL, page URL), as readers import them."""
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = title
    body = ElementTree.SubElement(opml, "body")
    for group, feeds in outlines:
        parent = ElementTree.SubElement(body, "outline", text=group, title=group)
        for text, xml_url, html_url in feeds:
            ElementTree.SubElement(
                parent,
                "outline",
                type="rss",
                text=text,
                title=text,
                xmlUrl=xml_url,
                htmlUrl=html_url,
            )
    return ElementTree.tostring(opml, encoding="utf-8", xml_declaration=True)
