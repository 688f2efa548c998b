"""Pure part of following gov.kz links (SPEC section 8): the API address of an item, the
reading of the API's answer, and the back-off after a failure.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from feeds.text.links import split_url
from feeds.text.sanitize import clean_html, html_to_text
from feeds.text.textclean import collapse_spaces, remove_unsafe_chars

API_PATH = "/api/v1/public/content-manager/news/{id}"
FOLLOWED_KINDS = frozenset({"press/news"})  # the only content kind the public API serves
# Relative URLs in followed HTML point at the real portal, whatever GOVKZ_BASE_URL is.
PORTAL = "https://www.gov.kz/"
UNKNOWN_TIME = "T00:00:00.000+00:00"  # migrated items: the portal does not know the time


class BadAnswer(ValueError):
    """The API answered 200 with something that is not a news object."""


@dataclass(frozen=True)
class Enrichment:
    title: str
    body_html: str
    published: datetime | None  # None when the API does not know the time
    image: str | None

    @property
    def content_hash(self) -> str:
        parts = [
            self.title,
            self.body_html,
            self.published and self.published.isoformat(),
            self.image,
        ]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    @property
    def body_text(self) -> str:
        return html_to_text(self.body_html)


def api_url(base_url: str, govkz_id: str) -> str:
    return base_url.rstrip("/") + API_PATH.format(id=int(govkz_id))


def _text_field(data: dict, name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadAnswer(f"field {name!r} is {type(value).__name__}, not text")
    return remove_unsafe_chars(value)[0]


def _created(value: object) -> datetime | None:
    if not isinstance(value, str) or not value or value.endswith(UNKNOWN_TIME):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadAnswer(f"created_date {value[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise BadAnswer(f"created_date {value[:40]!r} has no offset")
    return moment


def _image_url(heropic: str) -> str | None:
    """The hero image's absolute URL, only when it is http(s): browsers drop tabs and
    newlines inside a scheme ("java<TAB>script:" is javascript:), and data: or vbscript:
    URLs are no image of gov.kz's either."""
    if not heropic:
        return None
    try:
        url = urljoin(PORTAL, heropic)
    except ValueError:  # "http://[x": no URL at all
        return None
    parts = split_url(url)
    return url if parts is not None and parts.scheme in ("http", "https") else None


def parse_answer(payload: bytes, expected_id: str) -> Enrichment:
    """The enrichment in an API answer, or BadAnswer saying what is wrong with it."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadAnswer(f"invalid JSON ({exc.__class__.__name__}: {str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise BadAnswer(f"JSON {type(data).__name__}, not an object")
    if str(data.get("id", expected_id)) != str(expected_id):
        raise BadAnswer(f"answer is about item {str(data.get('id'))[:20]!r}, not {expected_id}")
    heropic = _text_field(data, "heropic").strip()
    return Enrichment(
        title=collapse_spaces(_text_field(data, "title")),
        body_html=clean_html(_text_field(data, "body"), base_url=PORTAL),
        published=_created(data.get("created_date")),
        image=_image_url(heropic),
    )


# -- back-off ---------------------------------------------------------------------------------

RETRY_FIRST = timedelta(minutes=15)
RETRY_MAX = timedelta(days=1)
GONE_RETRY = timedelta(days=7)  # 400/403/404: probably gone; look again rarely
RETRY_AFTER_MAX = timedelta(days=1)


def backoff(attempts: int) -> timedelta:
    """After `attempts` transient failures: 15 min, 30 min, 1 h ... at most a day."""
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


def retry_after(header: str | None, now: datetime) -> timedelta | None:
    """The wait a Retry-After header asks for (seconds or an HTTP date), capped."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        wait = timedelta(seconds=int(header))
    else:
        try:
            wait = parsedate_to_datetime(header) - now
        except (TypeError, ValueError):
            return None
    return max(timedelta(0), min(wait, RETRY_AFTER_MAX))
