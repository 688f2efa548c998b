"""Pure part of the portal's official RSS (issue 27): its address per agency and language,
and its entries read as releases, with feedparser.

gov.kz publishes `{GOVKZ_BASE_URL}/api/v1/public/rss/<agency>/news/<lang>` for en, ru and kk,
public and without a ticket; each item links the release's page
(`.../memleket/entities/<agency>/press/news/details/<id>?lang=..`) and carries its exact
publication time. An entry is the same release, and the same language version, as a dump's
item with that link: its key is the release's (the link's kind and id) plus the feed's
language, so a release in both is one entry of ours.
"""

from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import feedparser

from feeds.dumps.records import KAZAKHSTAN, ItemRecord, content_hash, version_key
from feeds.errors import Problem, SourceError
from feeds.text.links import LANGUAGE_ORDER, parse_govkz_link
from feeds.text.sanitize import html_to_text
from feeds.text.textclean import collapse_spaces, remove_unsafe_chars

RSS_PATH = "/api/v1/public/rss/{agency}/news/{lang}"
RSS_LANGUAGES = LANGUAGE_ORDER


@dataclass(frozen=True)
class RssFeed:
    agency: str
    lang: str
    url: str


def rss_feed(base_url: str, agency: str, lang: str) -> RssFeed:
    return RssFeed(agency, lang, base_url.rstrip("/") + RSS_PATH.format(agency=agency, lang=lang))


def parse_rss(body: bytes, feed: RssFeed) -> tuple[list[ItemRecord], list[Problem]]:
    """The feed's entries as records of its language (each release once, the first kept),
    and a Problem naming the entry for each one that is not a release of gov.kz with a time;
    SourceError naming the URL when the body is no RSS at all."""
    parsed = feedparser.parse(body)
    if parsed.bozo and not parsed.entries:
        reason = parsed.get("bozo_exception", "not a feed")
        raise SourceError(f"{feed.url}: not an RSS feed ({str(reason)[:200]})")
    if not parsed.get("version") and not parsed.entries:
        raise SourceError(f"{feed.url}: not an RSS feed (no channel)")
    records: dict[str, ItemRecord] = {}
    problems: list[Problem] = []
    for number, entry in enumerate(parsed.entries, start=1):
        record = _record(entry, feed, number)
        if isinstance(record, str):
            problems.append(Problem(feed.url, number, f"entry {number}: {record}"))
        else:
            records.setdefault(record.key, record)
    return list(records.values()), problems


def _record(entry: feedparser.FeedParserDict, feed: RssFeed, number: int) -> ItemRecord | str:
    """The entry's record, or why it has none."""
    link = parse_govkz_link(str(entry.get("link", "")).strip())
    if link is None:
        return f"link {str(entry.get('link', ''))[:200]!r} is not a gov.kz release"
    title = collapse_spaces(remove_unsafe_chars(str(entry.get("title", "")))[0])
    if not title:
        return "no title"
    raw_time = str(entry.get("published", "")).strip()
    try:
        # feedparser's own `published_parsed` is in UTC: the offset is kept by reading the
        # RFC 822 date ourselves (the standard library's, as feedparser itself does).
        published = parsedate_to_datetime(raw_time)
    except (TypeError, ValueError):
        return f"pubDate {raw_time[:60]!r} is not an RFC 822 date"
    if published.tzinfo is None:
        return f"pubDate {raw_time[:60]!r} has no time zone"
    body = html_to_text(remove_unsafe_chars(str(entry.get("summary", "")))[0])
    release = f"govkz:{link.kind}:{link.id}"
    day = published.astimezone(KAZAKHSTAN).date()
    return ItemRecord(
        key=version_key(release, feed.lang),
        release=release,
        kind=link.kind,
        govkz_id=link.id,
        agency=link.agency,
        link=link.url,
        link_lang=link.lang,
        other_sources=(),
        section=None,
        title=title,
        body=body,
        day=day,
        published=published,
        lang=feed.lang,
        content_hash=content_hash(title, body, link.url, (), day),
        position=number - 1,
        line=number,
    )
