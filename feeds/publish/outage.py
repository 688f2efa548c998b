"""Store outages as a web process sees them: logged once when the first request meets one
and once when the store answers again, however many requests come in between."""

import logging
import threading
import time

from feeds.errors import StoreUnavailable

log = logging.getLogger("feeds.store")

__all__ = ["Outage", "StoreUnavailable"]


class Outage:
    def __init__(self) -> None:
        self._since: float | None = None  # monotonic time of the first failure seen
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.warning(
            "store unreachable (%s): serving the feeds this process prepared, 503 for the rest",
            f"{error.__class__.__name__}: {str(error).strip().splitlines()[0][:200]}"
            if str(error).strip()
            else error.__class__.__name__,
        )

    def answered(self) -> None:
        """The store answered: ends an outage. One attribute read when there is none (this
        runs on every request)."""
        if self._since is None:
            return
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.warning("store reachable again after %.1f s", time.monotonic() - since)
