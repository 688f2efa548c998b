"""Pure HTML sanitizing with nh3 (the Rust ammonia library): what reaches any feed or page
as HTML goes through here."""

import html
import re
from urllib.parse import urljoin

import nh3

ALLOWED_TAGS = {
    "p", "br", "b", "strong", "i", "em", "u", "s", "sub", "sup", "blockquote", "q", "cite",
    "ul", "ol", "li", "dl", "dt", "dd", "h2", "h3", "h4", "h5", "h6", "a", "img", "figure",
    "figcaption", "table", "thead", "tbody", "tr", "th", "td", "caption", "pre", "code", "hr",
    "span", "abbr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def clean_html(fragment: str, base_url: str | None = None) -> str:
    """Only harmless tags and attributes, http(s) links; relative URLs made absolute
    against `base_url` when one is given."""

    def absolute(element: str, attribute: str, value: str) -> str | None:
        if attribute in {"href", "src"} and base_url:
            return urljoin(base_url, value)
        return value

    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=absolute,
        link_rel="noopener noreferrer nofollow",
    )


_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|div|li|h[1-6]|tr|blockquote|figcaption)\s*>", re.I)


def html_to_text(fragment: str) -> str:
    """The text of an HTML fragment, one line per block (for classifying followed items)."""
    stripped = nh3.clean(_BLOCK_END.sub("\n", fragment), tags=set())
    lines = (" ".join(html.unescape(line).split()) for line in stripped.split("\n"))
    return "\n".join(line for line in lines if line)
