"""Which `Host` a request may name, and the base URL its links are built on.

With `SITE_URL` set, every link uses it and the `Host` header plays no part. Without it,
links are built from the request's host, which must be one of `ALLOWED_HOSTS` (the port is
not compared, as Django does); any other host gets 400, so that a client cannot make us
write links to a host of its choosing, nor make a new page per made-up host. A page built
for an allowed host on another port than the server's is rendered on demand, never stored:
the shared store holds a bounded number of base URLs.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from werkzeug.wsgi import get_host

BASE = "feeds.base"  # the environ key of the request's PublicBase, for the layers behind

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class PublicBase:
    url: str  # scheme://host[:port], what links start with
    shared: bool  # whether its pages may go to the store shared by every process


def split_port(host: str) -> tuple[str, str | None]:
    """("name", "port") of "name:port"; IPv6 literals keep their brackets."""
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit() and "]" not in port:
        return name, port
    return host, None


class Hosts:
    def __init__(self, site_url: str, allowed: Sequence[str]) -> None:
        self.site = PublicBase(site_url, True) if site_url else None
        self.allowed = frozenset(name.lower() for name in allowed)
        # Bounded: a flood of made-up hosts only evicts.
        self._decide = lru_cache(maxsize=1024)(self._base_of)

    def base(self, environ: dict[str, Any]) -> PublicBase | None:
        """The request's base URL; None when its host is not allowed."""
        if self.site is not None:
            return self.site
        # werkzeug's get_host: the Host header (or the server's address), default ports
        # dropped, "" when it holds characters no host name has.
        host = get_host(environ).lower()
        return self._decide(environ["wsgi.url_scheme"], host, environ.get("SERVER_PORT"))

    def _base_of(self, scheme: str, host: str, server_port: str | None) -> PublicBase | None:
        name, port = split_port(host)
        if not host or name not in self.allowed:
            return None
        return PublicBase(f"{scheme}://{host}", port is None or port == server_port)


class AllowedHosts:
    """WSGI layer in front of everything: 400 for a host that is not allowed; for the
    others, the request's PublicBase in `environ[BASE]`."""

    def __init__(self, app: WSGIApp, hosts: Hosts) -> None:
        self.app = app
        self.hosts = hosts

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        base = self.hosts.base(environ)
        if base is None:
            host = environ.get("HTTP_HOST", "")[:100]
            body = (
                f"400 Bad Request: host {host!r} is not in ALLOWED_HOSTS "
                "(or set SITE_URL, the public base URL)\n"
            ).encode()
            start_response(
                "400 BAD REQUEST",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]
        environ[BASE] = base
        return self.app(environ, start_response)
