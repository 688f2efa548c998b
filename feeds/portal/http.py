"""HTTP client: the only module that uses `requests`.

One session per purpose, with urllib3 retries on connection errors and 5xx, timeouts,
an honest User-Agent and a cap on the size of what is read.
"""

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from feeds import __version__
from feeds.errors import AnswerTooLarge, FetchError, HostUnreachable, SourceError

USER_AGENT = f"feeds/{__version__} (+https://github.com/feeds-kz/feeds; gov.kz news feeds)"
CHUNK = 64 * 1024
ERROR_BODY_BYTES = 4096  # of a non-200 answer: enough for a JSON error
_CONNECT_REASONS = {
    "Connection refused": "connection refused",
    "Connection reset": "connection reset",
    "Remote end closed connection": "connection closed without an answer",
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


def make_api_session() -> requests.Session:
    """For the gov.kz API: no retries and no redirects here. The follower retries 5xx and
    follows redirects in its own loop, so every request, retries included, waits for its
    rate limit (urllib3 sends its retries at once), and decides whom a failure is charged to."""
    return _session(Retry(total=0, read=False, redirect=0, raise_on_status=False))


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
    except urllib3.exceptions.ReadTimeoutError as exc:  # a body that stopped coming
        raise requests.ReadTimeout(exc) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except urllib3.exceptions.HTTPError as exc:  # the connection broke mid-body
        raise requests.exceptions.ChunkedEncodingError(exc) from None


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: the body of a 200 (capped at the client's limit) or the first
    ERROR_BODY_BYTES of any other, headers as sent."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class ApiClient:
    """One GET to a JSON API, and our errors for what went wrong: `HostUnreachable` when no
    connection could be made, `AnswerTooLarge` past `max_bytes`, `FetchError` for the rest
    (a timeout before or while the answer came, a reset). `timeout` bounds the connection,
    the wait for the headers and, separately, the reading of the whole body."""

    def __init__(
        self, timeout: float, max_bytes: int, session: requests.Session | None = None
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.session = session or make_api_session()

    def get(self, url: str, headers: Mapping[str, str]) -> Answer:
        return self._answer("GET", url, headers)

    def post_json(self, url: str, payload: object, headers: Mapping[str, str]) -> Answer:
        """One POST of a JSON body (the portal's ticket), answered as `get` answers."""
        return self._answer("POST", url, headers, payload)

    def _answer(
        self, method: str, url: str, headers: Mapping[str, str], payload: object = None
    ) -> Answer:
        try:
            response = self.session.request(
                method,
                url,
                headers=dict(headers),
                json=payload,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise _request_error(exc) from None
        except ValueError as exc:  # requests parses a redirect's Location even when not following
            raise FetchError(f"a URL urllib cannot parse, asked or redirected to ({exc})") from None
        with response:
            if response.status_code != 200:
                return Answer(response.status_code, response.headers, _error_body(response))
            try:
                body = read_capped(response, self.max_bytes, url, self.timeout)
            except SourceError as exc:
                raise AnswerTooLarge(str(exc).removeprefix(f"{url}: ")) from None
            except requests.RequestException as exc:
                raise FetchError(f"reading failed: {_reason(exc)}") from None
            return Answer(200, response.headers, body)


def _error_body(response: requests.Response) -> bytes:
    """The start of a refusal's body (the portal says why in it: `notAllowed`); nothing
    when it does not come at once or breaks: the status alone is the answer then."""
    try:
        return next(_arriving(response), b"")[:ERROR_BODY_BYTES]
    except requests.RequestException:
        return b""


def _request_error(exc: requests.RequestException) -> FetchError:
    """A connection never made is the host's trouble; a timeout or a reset once connected
    is this request's (one stalled article must not look like a host that is down)."""
    if isinstance(exc, requests.ConnectTimeout):
        return HostUnreachable("cannot connect: timed out")
    if isinstance(exc, requests.ConnectionError) and _never_connected(exc):
        return HostUnreachable(_reason(exc))
    if isinstance(exc, requests.Timeout):
        return FetchError("timed out")
    if isinstance(exc, requests.ConnectionError):
        return FetchError(_connection_reason(exc) or "connection broken")
    return FetchError(f"request failed: {_reason(exc)}")


def _never_connected(exc: requests.ConnectionError) -> bool:
    # requests wraps urllib3's MaxRetryError, whose reason says whether a connection was
    # ever made (NewConnectionError: refused, DNS, unreachable network).
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


class DumpClient:
    """GETs of dump URLs (retried on connection errors and 5xx), conditional when the
    validators of the last fetch are known; every failure is a SourceError naming the URL."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session or make_session()

    def fetch(
        self,
        url: str,
        *,
        timeout: float,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """The dump's bytes (status 200), or status 304 when unchanged."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with self.session.get(url, headers=headers, timeout=timeout, stream=True) as response:
                if response.status_code == 304:
                    return Fetched(304, b"", etag, last_modified)
                if response.status_code != 200:
                    raise SourceError(f"{url}: HTTP {response.status_code} {response.reason}")
                body = read_capped(response, max_bytes, url)
                validators = response.headers.get("ETag"), response.headers.get("Last-Modified")
                return Fetched(200, body, *validators)
        except requests.RequestException as exc:
            raise SourceError(f"{url}: {_reason(exc)}") from None
        except ValueError as exc:  # urllib's, for a URL it cannot parse (a redirect's Location)
            raise SourceError(
                f"{url}: a URL urllib cannot parse, asked or redirected to ({exc})"
            ) from None


class FormPoster:
    """POSTs of a form (WebSub pings), retried on connection errors, 429 and 5xx."""

    def __init__(self, timeout: float, session: requests.Session | None = None) -> None:
        self.timeout = timeout
        self.session = session or make_post_session()

    def post(self, url: str, form: Mapping[str, str]) -> int:
        """The answer's status; FetchError with a short reason when there was none."""
        try:
            with self.session.post(url, data=dict(form), timeout=self.timeout) as response:
                return response.status_code
        except requests.RequestException as exc:
            raise FetchError(_reason(exc)) from None
        except ValueError as exc:  # urllib's, for a URL it cannot parse (a redirect's Location)
            raise FetchError(f"a URL urllib cannot parse, asked or redirected to ({exc})") from None


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        reason = _connection_reason(exc)
        return f"cannot connect: {reason}" if reason else "cannot connect"
    return str(exc) or exc.__class__.__name__


def _connection_reason(exc: requests.ConnectionError) -> str | None:
    text = str(exc)
    return next((reason for marker, reason in _CONNECT_REASONS.items() if marker in text), None)
