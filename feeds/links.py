"""The gov.kz portal's facts, each in one place: its hosts, its languages, the grammar of
its links and of the slugs we serve; and the pure parsing of `Source :` citations and links.
"""

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

GOVKZ_HOSTS = frozenset({"gov.kz", "www.gov.kz"})
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
# next citation is glued to it ("...kostanae/Source : https://...").
CITATION_LABEL = r"(?:Source|Источник|Дереккөз)\s*:"
HAS_CITATION = re.compile(CITATION_LABEL + r"\s*https?://", re.IGNORECASE)
_CITATION = re.compile(
    CITATION_LABEL + r"\s*(?P<url>https?://\S+?)(?=" + CITATION_LABEL + r"|\s|$)",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,;:!)]}»”\"'"
# /memleket/entities/<agency>/<kind...>/details/<id>: press/news, press/article, documents...
# The agency must be a slug the web serves, and every part must fit its store column
# (feeds/schema.py): PostgreSQL refuses the whole ingest otherwise.
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


def is_govkz_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in GOVKZ_HOSTS


def parse_govkz_link(url: str) -> GovkzLink | None:
    """The agency, content kind and id of a gov.kz entity link, or None if it is not one."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in GOVKZ_HOSTS or parts.username or parts.port:
        return None
    match = _ENTITY_PATH.match(parts.path)
    if not match or len(match["kind"].strip("/")) > MAX_KIND:
        return None
    lang = parse_qs(parts.query).get("lang", [DEFAULT_LANG])[0].lower()
    return GovkzLink(
        url=url,
        agency=match["agency"].lower(),
        kind=match["kind"].strip("/").lower(),
        id=match["id"],
        lang=lang if lang in LANGUAGES else DEFAULT_LANG,
    )


@dataclass(frozen=True)
class Citations:
    text: str  # the body with every citation removed
    urls: tuple[str, ...]


def extract_citations(body: str) -> Citations:
    """Take every `Source : <url>` out of a body, keeping the URLs in order."""
    matches = list(_CITATION.finditer(body))
    urls = tuple(m["url"].rstrip(_TRAILING_PUNCTUATION) for m in matches)
    text = _CITATION.sub("\n", body) if matches else body
    lines = (line.strip() for line in text.split("\n"))
    return Citations(text="\n".join(line for line in lines if line), urls=urls)
