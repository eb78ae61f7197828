"""An LRU cache with expiry: fill in every method (see README.md for the full statement)."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any


class LRUCache:
    """A cache of at most ``capacity`` live entries that evicts the least recently used one.

    An entry written at time ``t`` with time-to-live ``d`` is live while ``clock() < t + d`` and
    expired from ``t + d`` on; an expired entry behaves exactly as if it were absent.
    """

    def __init__(
        self,
        capacity: int,
        ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create an empty cache.

        ``capacity``: an int >= 1, else ``ValueError`` (a non-integer: ``ValueError`` or
        ``TypeError``). ``ttl``: the default time-to-live of an entry in seconds, ``None`` for
        never; ``ttl <= 0`` raises ``ValueError``. ``clock``: returns the current time in
        seconds; read the time only through it.
        """
        raise NotImplementedError("implement LRUCache.__init__")

    def get(self, key: Hashable, default: Any = None) -> Any:
        """Return the value of ``key``'s live entry, which becomes the most recently used;
        otherwise return ``default``. Does not change when the entry expires."""
        raise NotImplementedError("implement LRUCache.get")

    def put(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        """Insert or replace ``key``.

        The entry becomes the most recently used and its expiry restarts from now, with ``ttl``
        if given, else the cache's ``ttl``; ``ttl <= 0`` raises ``ValueError`` and changes
        nothing. Afterwards, while more than ``capacity`` live entries are held, the least
        recently used live entry is evicted; expired entries never cause a live one to be
        evicted.
        """
        raise NotImplementedError("implement LRUCache.put")

    def delete(self, key: Hashable) -> bool:
        """Remove ``key``'s entry; return ``True`` only if a live entry was removed."""
        raise NotImplementedError("implement LRUCache.delete")

    def __len__(self) -> int:
        """The number of live entries."""
        raise NotImplementedError("implement LRUCache.__len__")

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` has a live entry; does not change recency."""
        raise NotImplementedError("implement LRUCache.__contains__")

    def keys(self) -> list[Hashable]:
        """The live keys, least recently used first; does not change recency."""
        raise NotImplementedError("implement LRUCache.keys")

    def purge_expired(self) -> int:
        """Remove every expired entry now; return how many entries this call removed."""
        raise NotImplementedError("implement LRUCache.purge_expired")
