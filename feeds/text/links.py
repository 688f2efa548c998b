"""The gov.kz portal's facts, each in one place: its hosts, its languages, the grammar of
its links and of the slugs we serve; and the pure parsing of `Source :` citations and links,
and of the files on gov.kz a release's text links (its attachments).
"""

import mimetypes
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import (
    SplitResult,
    parse_qs,
    parse_qsl,
    quote,
    unquote,
    urlencode,
    urljoin,
    urlsplit,
    urlunsplit,
)

import lxml.etree
import lxml.html

GOVKZ_HOSTS = frozenset({"gov.kz", "www.gov.kz"})
PORTAL_HOST = "www.gov.kz"  # where the portal serves its pages
LANGUAGES = ("kk", "ru", "en")  # the portal's, as its ?lang= spells them
DEFAULT_LANG = "kk"  # a link without ?lang= is the portal's Kazakh interface
LANGUAGE_ORDER = ("en", "ru", "kk")  # the order pages show them and rules list their terms
LANGUAGE_SELF_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}

# A slug the web serves (agency and topic URLs); an agency's slug is this, lower-cased, in
# its gov.kz links. 128 characters: items.agency and item_topics.topic are VARCHAR(128).
SLUG = r"[a-z0-9][a-z0-9_-]{0,127}"
# What slugify() makes, and so what topic and section slugs must be.
WORD_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# "Source : <url>", also in Russian and Kazakh; the URL ends at whitespace or where the
# next citation is glued to it ("...kostanae/Source : https://..."). As a regular expression:
#   CITATION_LABEL \s* <? (?P<url>https?://\S+?) (?= CITATION_LABEL | \s | $), ignoring case;
# `extract_citations` finds exactly its matches without running it over every body (that
# scan was 45 % of parsing a dump: tests/text/test_citations.py holds the two to each other).
CITATION_LABEL = r"(?:Source|Источник|Дереккөз)\s*:"
HAS_CITATION = re.compile(CITATION_LABEL + r"\s*<?https?://", re.IGNORECASE)
_LABEL_WORD = re.compile(r"Source|Источник|Дереккөз", re.IGNORECASE)
_LABEL_WORD_AT_END = re.compile(r"(?:Source|Источник|Дереккөз)\Z", re.IGNORECASE)
_LONGEST_LABEL_WORD = 8
_SCHEME_AT_END = re.compile(r"https?\Z", re.IGNORECASE)
_SPACE = re.compile(r"\s")
_TRAILING_PUNCTUATION = ".,;:!)]}>»”\"'"
# /memleket/entities/<agency>/<kind...>/details/<id>: press/news, press/article, documents...
# The agency must be a slug the web serves, and every part must fit its store column
# (feeds/store/schema.py): PostgreSQL refuses the whole ingest otherwise.
_ENTITY_PATH = re.compile(
    rf"^/memleket/entities/(?P<agency>(?i:{SLUG}))/"
    r"(?P<kind>(?:[A-Za-z0-9_-]+/)+?)details/(?P<id>\d{1,32})/?$"
)
MAX_KIND = 64  # items.kind is VARCHAR(64)


@dataclass(frozen=True)
class GovkzLink:
    url: str
    agency: str
    kind: str  # "press/news", "press/article", "documents"...
    id: str
    lang: str  # the link's ?lang=, "kk" when absent or unknown


def split_url(url: str) -> SplitResult | None:
    """`urlsplit`, or None for a URL it refuses: an unclosed "[" of an IPv6 host, a port
    that is no number or out of range. Dumps, answers and stored items hold such; urlsplit
    raises ValueError for them, which stopped the parse of a whole dump at one citation."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - the port is checked only when read
    except ValueError:
        return None
    return parts


def is_valid_url(url: str) -> bool:
    return split_url(url) is not None


def is_govkz_url(url: str) -> bool:
    parts = split_url(url)
    return parts is not None and (parts.hostname or "").lower() in GOVKZ_HOSTS


_DEFAULT_PORTS = {"http": 80, "https": 443}


# The form of nearly every item's link, whose parts `urlsplit` and `parse_qs` would give as
# they are (no blank, "%", "#", port, user or other query): read by one match (8 -> 2 µs).
_PLAIN_ENTITY_LINK = re.compile(
    r"https://www\.gov\.kz(?P<path>/memleket/entities/[A-Za-z0-9_/-]+)(?:\?lang=(?P<lang>kk|ru|en))?"
)


def parse_govkz_link(url: str) -> GovkzLink | None:
    """The agency, content kind and id of a gov.kz entity link, or None if it is not one."""
    plain = _PLAIN_ENTITY_LINK.fullmatch(url)
    if plain:
        return _entity_link(url, plain["path"], plain["lang"] or DEFAULT_LANG)
    parts = split_url(url)
    if parts is None or (parts.hostname or "").lower() not in GOVKZ_HOSTS or parts.username:
        return None
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return None
    lang = parse_qs(parts.query).get("lang", [DEFAULT_LANG])[0].lower()
    return _entity_link(url, parts.path, lang)


def _entity_link(url: str, path: str, lang: str) -> GovkzLink | None:
    match = _ENTITY_PATH.match(path)
    if not match or len(match["kind"].strip("/")) > MAX_KIND:
        return None
    return GovkzLink(
        url=url,
        agency=match["agency"].lower(),
        kind=match["kind"].strip("/").lower(),
        id=match["id"],
        lang=lang if lang in LANGUAGES else DEFAULT_LANG,
    )


def in_language(url: str, lang: str) -> str:
    """The same gov.kz page in another language (its `?lang=`), at the portal's own address
    (`https://www.gov.kz`, whatever scheme, case, port or host the dump wrote: an `http://`
    link would send readers over plain HTTP); any other URL unchanged."""
    parts = split_url(url)
    if parts is None or (parts.hostname or "").lower() not in GOVKZ_HOSTS:
        return url
    query = [(name, value) for name, value in parse_qsl(parts.query) if name != "lang"]
    return urlunsplit(
        parts._replace(
            scheme="https", netloc=PORTAL_HOST, query=urlencode([*query, ("lang", lang)])
        )
    )


def preferred_language(languages: Iterable[str], preference: Sequence[str]) -> str:
    """Which of a release's versions a feed without `?lang=` shows: the first in the order
    of preference; one in no language of it after all those, alphabetically. It depends on
    the versions alone, never on the order they arrived in."""
    return min(languages, key=lambda lang: (_rank(lang, preference), lang))


def _rank(lang: str, preference: Sequence[str]) -> int:
    return preference.index(lang) if lang in preference else len(preference)


@dataclass(frozen=True)
class Citations:
    text: str  # the body with every citation removed
    urls: tuple[str, ...]


def extract_citations(body: str) -> Citations:
    """Take every `Source : <url>` out of a body, keeping the URLs in order."""
    spans = list(_citation_spans(body))
    urls = tuple(body[url:end].rstrip(_TRAILING_PUNCTUATION) for _, url, end in spans)
    if spans:
        pieces, last = [], 0
        for start, _, end in spans:
            pieces += (body[last:start], "\n")
            last = end
        body = "".join([*pieces, body[last:]])
    lines = (line.strip() for line in body.split("\n"))
    return Citations(text="\n".join(line for line in lines if line), urls=urls)


def _citation_spans(body: str) -> Iterator[tuple[int, int, int]]:
    """(label start, URL start, end) of each citation, left to right, never overlapping:
    found from each "://" (a quick string search), looking back for the label."""
    last_end = 0
    found = body.find("://")
    while found != -1:
        scheme = _SCHEME_AT_END.search(body, max(last_end, found - 5), found)
        if scheme:
            url = scheme.start()
            start = _label_start(body, url)
            if start is not None and start >= last_end:
                end = _url_end(body, found + 4)
                if end is not None:
                    yield start, url, end
                    last_end = end
                    found = body.find("://", end)
                    continue
        found = body.find("://", found + 3)


def _label_start(body: str, url: int) -> int | None:
    """Where `CITATION_LABEL \\s* <?` ending right before `url` starts, or None."""
    if url and body[url - 1] == "<":  # "Source : <https://...>", as mail and Markdown write it
        url -= 1
    colon = _skip_space_back(body, url)
    if colon == 0 or body[colon - 1] != ":":
        return None
    word_end = _skip_space_back(body, colon - 1)
    match = _LABEL_WORD_AT_END.search(body, max(0, word_end - _LONGEST_LABEL_WORD), word_end)
    return match.start() if match else None


def _url_end(body: str, first: int) -> int | None:
    """The end of `\\S+?` from `first - 1` (at least one character after "://"): before the
    first whitespace, or before a label glued to the URL; None if no character follows."""
    if first > len(body) or body[first - 1].isspace():
        return None
    found = _SPACE.search(body, first)
    space = found.start() if found else len(body)
    # A glued label ends before a colon, in the URL or after the blanks that end it: most
    # URLs have neither, and are not searched for the words (8 % of the parse, issue 31).
    if body.find(":", first, space) == -1:
        after = _skip_space(body, space)
        if after >= len(body) or body[after] != ":":
            return space
    for word in _LABEL_WORD.finditer(body, first, space):
        after = _skip_space(body, word.end())
        if after < len(body) and body[after] == ":":
            return word.start()
    return space


def _skip_space(body: str, index: int) -> int:
    while index < len(body) and body[index].isspace():
        index += 1
    return index


def _skip_space_back(body: str, index: int) -> int:
    while index > 0 and body[index - 1].isspace():
        index -= 1
    return index


# -- a release's documents ------------------------------------------------------------------

# The files gov.kz releases link (decrees, plans, tables, slides, archives, pictures). The
# standard table, not the system's (mimetypes.init reads /etc/mime.types: the bytes of a feed
# would differ between machines), with the Office and OpenDocument types it lacks.
_MIME = mimetypes.MimeTypes()
for _suffix, _type in (
    (".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    (".odt", "application/vnd.oasis.opendocument.text"),
    (".rar", "application/vnd.rar"),
):
    _MIME.add_type(_type, _suffix)
DOCUMENT_SUFFIXES = frozenset(
    {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".zip", ".rar"}
    | {".jpg", ".jpeg", ".png"}
)
UPLOADS = "/uploads/"
UNKNOWN_TYPE = "application/octet-stream"  # a file under /uploads/ with no suffix we know
PORTAL_ROOT = f"https://{PORTAL_HOST}/"
_URL_SAFE = "/%:@!$&'()*+,;=~-._"  # what quote() leaves in a path: RFC 3986's, and "%"
# A URL in plain text (a dump's body): up to whitespace or a character no URL ends with.
_TEXT_URL = re.compile(r"(?:https?://|/uploads/)[^\s<>\"'«»]+", re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    """A file a release links on gov.kz: its absolute URL, MIME type and a name for it."""

    url: str
    mime_type: str
    title: str

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


def document_url(href: str) -> str | None:
    """The absolute https://www.gov.kz URL of a link to a file on gov.kz (`/uploads/...`, or
    a path ending in one of DOCUMENT_SUFFIXES), relative links resolved on the portal; None
    for any other link (a page, another host, a URL urllib refuses)."""
    if not href.isprintable():  # a control character: no URL, and no XML attribute either
        return None
    href = href.strip()
    parts = split_url(urljoin(PORTAL_ROOT, href)) if split_url(href) else None  # urljoin splits
    if parts is None or parts.scheme.lower() not in _DEFAULT_PORTS or parts.username:
        return None
    if (parts.hostname or "").lower() not in GOVKZ_HOSTS:
        return None
    if parts.port is not None and parts.port != _DEFAULT_PORTS[parts.scheme.lower()]:
        return None
    path = parts.path
    if not path.startswith(UPLOADS) and PurePosixPath(path).suffix.lower() not in DOCUMENT_SUFFIXES:
        return None
    # Spaces and letters beyond ASCII percent-encoded (RSS wants a URL, not an IRI); what
    # is encoded already stays as it is.
    path, query = quote(path, safe=_URL_SAFE), quote(parts.query, safe=_URL_SAFE + "?")
    return urlunsplit(("https", PORTAL_HOST, path, query, ""))


def attachment(url: str, text: str = "") -> Attachment:
    """An Attachment of a `document_url`; its title the link's text, else the file's name."""
    path = PurePosixPath(unquote(urlsplit(url).path))
    mime_type, _ = _MIME.guess_type(path.name, strict=False)
    title = _one_line(text) or _one_line(path.name)
    return Attachment(url, mime_type or UNKNOWN_TYPE, title)


def _one_line(text: str) -> str:
    """Words separated by single spaces; control and invisible characters are spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def find_attachments(links: Iterable[tuple[str, str]]) -> tuple[Attachment, ...]:
    """The gov.kz files among (href, link text) pairs, in order, each URL once (with the
    first text that names it). Titles are made distinct: JSON Feed takes attachments with
    the same title for one file in several forms."""
    found: dict[str, str] = {}
    for href, text in links:
        url = document_url(href)
        if url is not None and not found.get(url):
            found[url] = _one_line(text)
    attachments, titles = [], set()
    for url, text in found.items():
        each = attachment(url, text)
        if each.title in titles:
            each = Attachment(each.url, each.mime_type, f"{each.title} ({urlsplit(url).path})")
        titles.add(each.title)
        attachments.append(each)
    return tuple(attachments)


def text_links(text: str) -> Iterator[tuple[str, str]]:
    """(URL, "") of each URL written in plain text, its final punctuation left out."""
    if "://" not in text and "/uploads/" not in text:
        return  # most bodies: the scan costs 0.3 ms for 8 kB, these two tests far less
    for match in _TEXT_URL.finditer(text):
        yield match.group().rstrip(_TRAILING_PUNCTUATION), ""


def html_links(fragment: str) -> Iterator[tuple[str, str]]:
    """(href, text) of each `<a href>` of an HTML fragment (a followed release's body)."""
    if "href" not in fragment:  # nh3 writes attribute names in lower case
        return  # no link at all: no parse (50 µs for 8 kB)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.LxmlError):  # nothing to parse, or a character XML lacks
        return
    for anchor in root.iter("a"):
        href = anchor.get("href")
        if href:
            yield href, anchor.text_content()
