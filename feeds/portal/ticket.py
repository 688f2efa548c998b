"""Pure part of the portal's ticket (SPEC section 8, issue 27): whether an answer of the news
API is the portal's "no ticket" refusal, and which headers of a ticket's JSON may be sent.

What public scrapers saw of the live gov.kz: the news endpoint answers `400
{"error":"notAllowed"}` to a client that did not first POST `{}` to the ticket endpoint; the
ticket's answer sets a cookie and returns a small JSON object of header names and values
that the portal's own page sends with its news requests. We send what it hands any client,
bounded, and never a header that would change whom or where we ask.
"""

import json
import re

NOT_ALLOWED = "notAllowed"
REFUSED_STATUSES = frozenset({400, 401, 403})
MAX_HEADERS = 32
MAX_HEADER_BYTES = 4096  # names and values together
# RFC 9110's token: what a header name may be made of.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
# Never taken from a ticket: who we are, where we ask, what we accept, and what only the
# connection between two hops means (RFC 9110 section 7.6.1).
_NEVER = frozenset(
    {
        "host",
        "cookie",
        "authorization",
        "proxy-authorization",
        "user-agent",
        "accept",
        "accept-language",
        "accept-encoding",
        "content-length",
        "content-type",
        "if-none-match",
        "if-modified-since",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)


class BadTicket(ValueError):
    """The ticket endpoint answered 200 with something that is not a ticket."""


def is_not_allowed(status: int, body: bytes) -> bool:
    """The portal's refusal for want of a ticket: 400, 401 or 403 whose body says so."""
    return status in REFUSED_STATUSES and NOT_ALLOWED.encode() in body[:4096]


def ticket_headers(payload: bytes) -> dict[str, str]:
    """The headers a ticket's JSON asks news requests to carry: string values only, names
    checked, at most MAX_HEADERS and MAX_HEADER_BYTES in all; BadTicket for anything else
    than a JSON object (an empty body is a ticket of cookies alone)."""
    if not payload.strip():
        return {}
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadTicket(f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise BadTicket(f"JSON {type(data).__name__}, not an object")
    headers: dict[str, str] = {}
    size = 0
    for name, value in data.items():
        if not _sendable(name, value):
            continue
        size += len(name) + len(value)
        if len(headers) == MAX_HEADERS or size > MAX_HEADER_BYTES:
            raise BadTicket(f"more than {MAX_HEADERS} headers or {MAX_HEADER_BYTES} bytes")
        headers[name] = value
    return headers


def _sendable(name: object, value: object) -> bool:
    if not isinstance(name, str) or not isinstance(value, str):
        return False
    if not _TOKEN.fullmatch(name) or name.lower() in _NEVER:
        return False
    # A value with a control character (CR, LF) would split the header: never sent.
    return value.isprintable() and len(value) <= MAX_HEADER_BYTES
