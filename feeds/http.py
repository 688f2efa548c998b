"""HTTP client: the only module that uses `requests`.

One session per purpose, with urllib3 retries on connection errors and 5xx, timeouts,
an honest User-Agent and a cap on the size of what is read.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from feeds import __version__
from feeds.errors import SourceError

USER_AGENT = f"feeds/{__version__} (+https://github.com/feeds-kz/feeds; gov.kz news feeds)"
CHUNK = 64 * 1024
_CONNECT_REASONS = {
    "Connection refused": "connection refused",
    "Name or service not known": "host not found",
    "Temporary failure in name resolution": "host not found",
    "Network is unreachable": "network unreachable",
    "SSLError": "TLS error",
}


def make_session(retries: int = 2) -> requests.Session:
    """For dump URLs: retries on connection errors and 5xx, with back-off."""
    retry = Retry(
        total=retries,
        backoff_factor=0.5,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=("GET", "HEAD"),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    return _session(retry)


def make_follow_session() -> requests.Session:
    """For the gov.kz API: two quick retries on 500/502/504 only. No connect or read
    retries (an unreachable or slow host pauses following instead of being asked twice) and
    none on 429 or 503, whose Retry-After the follower honours without blocking in a sleep."""
    retry = Retry(
        total=2,
        connect=0,
        read=0,
        status=2,
        redirect=0,
        backoff_factor=0.5,
        status_forcelist=(500, 502, 504),
        allowed_methods=("GET",),
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    return _session(retry)


def make_post_session() -> requests.Session:
    """For WebSub pings: POST retried on connection errors, 429 and 5xx, with back-off
    (a publish ping is idempotent: the hub just fetches the feed again)."""
    retry = Retry(
        total=3,
        backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=("POST",),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    return _session(retry)


def _session(retry: Retry) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


@dataclass(frozen=True)
class Fetched:
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None


def read_capped(
    response: requests.Response, max_bytes: int, what: str, seconds: float | None = None
) -> bytes:
    """The body, or an error naming `what` once it grows past `max_bytes`; with `seconds`,
    `requests.ReadTimeout` once reading it took longer than that in all."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        limit = f"the limit of {max_bytes} bytes"
        raise SourceError(f"{what}: body of {declared} bytes is over {limit}")
    deadline = None if seconds is None else time.monotonic() + seconds
    body = bytearray()
    for chunk in _arriving(response):
        body += chunk
        if len(body) > max_bytes:
            raise SourceError(f"{what}: body is over the limit of {max_bytes} bytes")
        if deadline is not None and time.monotonic() > deadline:
            raise requests.ReadTimeout(f"{what}: body not read in {seconds:g} s")
    return bytes(body)


def _arriving(response: requests.Response) -> Iterator[bytes]:
    """The body in pieces as they arrive. `iter_content` waits until a whole chunk has come,
    and a server dripping a byte now and then never trips the socket's timeout: it could
    hold a reader for hours. urllib3's errors become the requests errors callers expect."""
    try:
        while chunk := response.raw.read1(CHUNK, decode_content=True):
            yield chunk
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.ConnectionError(exc) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except urllib3.exceptions.HTTPError as exc:  # the connection broke mid-body
        raise requests.exceptions.ChunkedEncodingError(exc) from None


def fetch_dump(
    session: requests.Session,
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """GET a dump by URL, conditionally when validators are known (304 = unchanged)."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with session.get(url, headers=headers, timeout=timeout, stream=True) as response:
            if response.status_code == 304:
                return Fetched(304, b"", etag, last_modified)
            if response.status_code != 200:
                raise SourceError(f"{url}: HTTP {response.status_code} {response.reason}")
            body = read_capped(response, max_bytes, url)
            return Fetched(
                200, body, response.headers.get("ETag"), response.headers.get("Last-Modified")
            )
    except requests.RequestException as exc:
        raise SourceError(f"{url}: {_reason(exc)}") from None


def describe_error(exc: requests.RequestException) -> str:
    """A short, stable reason for a failed request (no object addresses, no stack)."""
    return _reason(exc)


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        for marker, reason in _CONNECT_REASONS.items():
            if marker in text:
                return f"cannot connect: {reason}"
        return "cannot connect"
    return str(exc) or exc.__class__.__name__
