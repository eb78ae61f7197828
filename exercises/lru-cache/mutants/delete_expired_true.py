"""Bug: delete returns True for an expired entry too.

Mutant of the reference solution: a fixed-capacity LRU cache whose entries can expire.

Recency is kept by an ``OrderedDict`` (least recently used first), so ``get``, ``put``,
``delete`` and ``in`` are O(1) on average. Expiry times live in a min-heap of
``(expires_at, stamp, key)``; a heap item is stale once its key was rewritten or removed (the
entry's stamp no longer matches), and stale items are skipped when popped or dropped when the
heap is rebuilt, which keeps the heap at most about twice the number of entries.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

#: Below this many items the heap is never rebuilt (rebuilding tiny heaps is pointless churn).
_MIN_HEAP_TO_COMPACT = 32


def _check_ttl(ttl: Any) -> float | None:
    """Return a valid time-to-live (or ``None``), else raise ``TypeError``/``ValueError``."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise TypeError(f"ttl must be a number of seconds or None, not {type(ttl).__name__}")
    if not ttl > 0:  # also rejects NaN
        raise ValueError(f"ttl must be > 0, got {ttl!r}")
    return float(ttl)


class _Entry:
    """One cached value, when it expires (``None``: never), and the stamp of its write."""

    __slots__ = ("expires_at", "stamp", "value")

    def __init__(self, value: Any, expires_at: float | None, stamp: int) -> None:
        self.value = value
        self.expires_at = expires_at
        self.stamp = stamp

    def live_at(self, now: float) -> bool:
        """Whether the entry is live at time ``now`` (live while ``now < expires_at``)."""
        return self.expires_at is None or now < self.expires_at


class LRUCache:
    """A cache of at most ``capacity`` live entries that evicts the least recently used one.

    Entries expire ``ttl`` seconds after they were written (never, if ``ttl`` is ``None``); an
    expired entry behaves as if it were absent. Time is read only through ``clock``.
    """

    def __init__(
        self,
        capacity: int,
        ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError(f"capacity must be an int, not {type(capacity).__name__}")
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity!r}")
        self._capacity = capacity
        self._ttl = _check_ttl(ttl)
        self._clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()  # LRU first
        self._expiries: list[tuple[float, int, Hashable]] = []  # heap of (expires_at, stamp, key)
        self._stamps = itertools.count()

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value of ``key``'s live entry, which becomes the most recently used; else
        ``default``."""
        entry = self._entries.get(key)
        if entry is None:
            return default
        if not entry.live_at(self._clock()):
            del self._entries[key]  # expired: as good as absent, so drop it now
            return default
        self._entries.move_to_end(key)
        return entry.value

    def put(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        """Insert or replace ``key``; it becomes the most recently used and its expiry restarts
        from now (``ttl`` if given, else the cache's). Then evict least recently used live
        entries while more than ``capacity`` are live."""
        ttl = self._ttl if ttl is None else _check_ttl(ttl)
        now = self._clock()
        stamp = next(self._stamps)
        expires_at = None if ttl is None else now + ttl
        self._entries.pop(key, None)
        self._entries[key] = _Entry(value, expires_at, stamp)
        if expires_at is not None:
            heapq.heappush(self._expiries, (expires_at, stamp, key))
            self._compact_if_needed()
        if len(self._entries) > self._capacity:
            # Expired entries must not push live ones out: drop them before counting.
            self._purge(now)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def delete(self, key: Hashable) -> bool:
        """Remove ``key``'s entry; ``True`` only if it was live."""
        entry = self._entries.pop(key, None)
        return entry is not None

    def __len__(self) -> int:
        """The number of live entries."""
        self._purge(self._clock())
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` has a live entry; recency is not changed."""
        entry = self._entries.get(key)
        return entry is not None and entry.live_at(self._clock())

    def keys(self) -> list[Hashable]:
        """The live keys, least recently used first; recency is not changed."""
        self._purge(self._clock())
        return list(self._entries)

    def purge_expired(self) -> int:
        """Remove every expired entry now; return how many were removed."""
        return self._purge(self._clock())

    def _purge(self, now: float) -> int:
        """Remove the entries expired at ``now`` (amortised O(log n) each); return the count."""
        removed = 0
        heap = self._expiries
        while heap and heap[0][0] <= now:
            _, stamp, key = heapq.heappop(heap)
            entry = self._entries.get(key)
            if entry is not None and entry.stamp == stamp:
                del self._entries[key]
                removed += 1
        return removed

    def _compact_if_needed(self) -> None:
        """Rebuild the heap without stale items once they make up more than half of it.

        Each stale item was left by one earlier call, so the O(n) rebuild is amortised O(1).
        """
        heap = self._expiries
        if len(heap) > max(_MIN_HEAP_TO_COMPACT, 2 * len(self._entries)):
            self._expiries = [
                (entry.expires_at, entry.stamp, key)
                for key, entry in self._entries.items()
                if entry.expires_at is not None
            ]
            heapq.heapify(self._expiries)
