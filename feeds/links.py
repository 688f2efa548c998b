"""Pure parsing of `Source :` citations and gov.kz links."""

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

# "Source : <url>", also in Russian and Kazakh; the URL ends at whitespace or where the
# next citation is glued to it ("...kostanae/Source : https://...").
_CITATION = re.compile(
    r"(?:Source|Источник|Дереккөз)\s*:\s*(?P<url>https?://\S+?)(?=(?:Source|Источник|Дереккөз)\s*:|\s|$)",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,;:!)]}»”\"'"
_GOVKZ_HOSTS = {"gov.kz", "www.gov.kz"}
# /memleket/entities/<agency>/<kind...>/details/<id>: press/news, press/article, documents...
# The agency must be a slug the web serves (feeds.web.SlugConverter), and every part must
# fit its store column (feeds/schema.py): PostgreSQL refuses the whole ingest otherwise.
_ENTITY_PATH = re.compile(
    r"^/memleket/entities/(?P<agency>[A-Za-z0-9][A-Za-z0-9_-]{0,127})/"
    r"(?P<kind>(?:[A-Za-z0-9_-]+/)+?)details/(?P<id>\d{1,32})/?$"
)
MAX_KIND = 64  # items.kind is VARCHAR(64)
LANGUAGES = ("kk", "ru", "en")


@dataclass(frozen=True)
class GovkzLink:
    url: str
    agency: str
    kind: str  # "press/news", "press/article", "documents"...
    id: str
    lang: str  # the link's ?lang=, "kk" when absent or unknown


def is_govkz_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in _GOVKZ_HOSTS


def parse_govkz_link(url: str) -> GovkzLink | None:
    """The agency, content kind and id of a gov.kz entity link, or None if it is not one."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in _GOVKZ_HOSTS or parts.username or parts.port:
        return None
    match = _ENTITY_PATH.match(parts.path)
    if not match or len(match["kind"].strip("/")) > MAX_KIND:
        return None
    lang = parse_qs(parts.query).get("lang", ["kk"])[0].lower()
    return GovkzLink(
        url=url,
        agency=match["agency"].lower(),
        kind=match["kind"].strip("/").lower(),
        id=match["id"],
        lang=lang if lang in LANGUAGES else "kk",
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
