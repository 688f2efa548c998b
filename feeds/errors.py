"""The project's one exception tree, and the record of a problem found in input data.

Library errors (requests, SQLAlchemy, tomllib...) are wrapped into these only at the
boundary that owns them, so callers catch `FeedsError` and never a library's exception.
"""

from dataclasses import dataclass


class FeedsError(Exception):
    """Base of every error this project raises on purpose."""


class SettingsError(FeedsError):
    """A setting has a bad value; the message names the setting and where it came from."""


class SourceError(FeedsError):
    """A dump source (path, glob or URL) could not be read at all."""


class FetchError(FeedsError):
    """One HTTP request got no whole answer: that request's trouble (a timeout, a reset, a
    body over its limit). The message is a short reason without the URL."""


class AnswerTooLarge(FetchError):
    """The answer's body is larger than what we read."""


class HostUnreachable(FetchError):
    """The host could not be reached at all: connection refused, DNS, network, connect
    timeout. Nothing about the URL asked; asking another URL now would fail the same way."""


class PortalRefuses(FetchError):
    """gov.kz refuses this client as a whole (no ticket to be had, or refused with a fresh
    one): nothing about the item asked, and asking others now would be refused too."""


class TicketRefused(FetchError):
    """The news API refused one item with a fresh ticket: the item's, or the portal's when
    several different items in a row are refused so (the follower decides)."""


class StoreError(FeedsError):
    """The store could not be opened or migrated, or refused what it was asked."""


class StoreUnavailable(StoreError):
    """The database failed to answer: it is down, a connection broke, a lock waited too
    long. Nothing was wrong with the request; the same one may succeed later."""


class StoreDisconnected(StoreUnavailable):
    """The connection a statement ran on was dropped (a restart, a terminated backend), after
    the pool's ping found it alive: a new connection may well answer at once."""


@dataclass(frozen=True)
class Problem:
    """Something wrong in a dump: reported, never fatal for the items around it."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"
