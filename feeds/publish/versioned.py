"""The one in-process cache of the service: values made for a content version, bounded.

Every cache of a web process (feed pages, prepared answers of the fast path, pages rendered
on demand, the aggregates and known slugs) is a `VersionedCache`, so one rule holds in one
place: a value is served for the content version it was made for, never for another, and the
last value of a key is kept (until evicted) so that it can still be served while the store
cannot say what the version is (stale-if-error, `latest`).
"""

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

V = TypeVar("V")


class VersionedCache(Generic[V]):
    """One value per key with the version it was made for; beyond `maxsize` (entries, or
    bytes as measured by `sizeof`) the least recently used keys are dropped."""

    def __init__(self, maxsize: int, sizeof: Callable[[V], int] | None = None) -> None:
        measure = (lambda entry: sizeof(entry[1])) if sizeof else None
        # cachetools' LRU (with a size per entry) is not thread-safe: every use holds the lock.
        self._lru: LRUCache[Hashable, tuple[int, V]] = LRUCache(maxsize, getsizeof=measure)
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: int) -> V | None:
        """The value made for exactly this version, else None."""
        with self._lock:
            entry = self._lru.get(key)
        return entry[1] if entry is not None and entry[0] == version else None

    def latest(self, key: Hashable) -> V | None:
        """The newest value kept for the key, whatever its version (the store is down)."""
        with self._lock:
            entry = self._lru.get(key)
        return entry[1] if entry is not None else None

    def put(self, key: Hashable, version: int, value: V) -> None:
        """Keep a value; one made for an older version never replaces a newer one, and one
        bigger than the whole cache is not kept."""
        with self._lock:
            entry = self._lru.get(key)
            if entry is not None and entry[0] > version:
                return
            try:
                self._lru[key] = (version, value)
            except ValueError:  # cachetools: "value too large" for the bound
                self._lru.pop(key, None)

    def get_or_make(self, key: Hashable, version: int, make: Callable[[], V]) -> V:
        value = self.get(key, version)
        if value is None:
            value = make()
            self.put(key, version, value)
        return value

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._lru.keys())

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()

    @property
    def size(self) -> int:
        """What the cache holds: entries, or bytes when it measures them."""
        with self._lock:
            return int(self._lru.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._lru)
