"""Bug: keeps recency in a plain list, so get, put and delete search it in O(n).

Otherwise behaves like the reference: values in a dict, expiry times in a heap.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Hashable
from typing import Any


def _check_ttl(ttl: Any) -> float | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise TypeError("ttl must be a number of seconds or None")
    if not ttl > 0:
        raise ValueError("ttl must be > 0")
    return float(ttl)


class LRUCache:
    def __init__(
        self,
        capacity: int,
        ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError("capacity must be an int")
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._capacity = capacity
        self._ttl = _check_ttl(ttl)
        self._clock = clock
        self._data: dict[Hashable, tuple[Any, float | None, int]] = {}
        self._order: list[Hashable] = []  # least recently used first
        self._expiries: list[tuple[float, int, Hashable]] = []
        self._stamps = itertools.count()

    @staticmethod
    def _live(expires_at: float | None, now: float) -> bool:
        return expires_at is None or now < expires_at

    def _remove(self, key: Hashable) -> None:
        del self._data[key]
        self._order.remove(key)

    def get(self, key: Hashable, default: Any = None) -> Any:
        item = self._data.get(key)
        if item is None:
            return default
        if not self._live(item[1], self._clock()):
            self._remove(key)
            return default
        self._order.remove(key)
        self._order.append(key)
        return item[0]

    def put(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        ttl = self._ttl if ttl is None else _check_ttl(ttl)
        now = self._clock()
        stamp = next(self._stamps)
        expires_at = None if ttl is None else now + ttl
        if key in self._data:
            self._order.remove(key)
        self._data[key] = (value, expires_at, stamp)
        self._order.append(key)
        if expires_at is not None:
            heapq.heappush(self._expiries, (expires_at, stamp, key))
        if len(self._data) > self._capacity:
            self._purge(now)
            while len(self._data) > self._capacity:
                self._remove(self._order[0])

    def delete(self, key: Hashable) -> bool:
        item = self._data.get(key)
        if item is None:
            return False
        self._remove(key)
        return self._live(item[1], self._clock())

    def __len__(self) -> int:
        self._purge(self._clock())
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        item = self._data.get(key)
        return item is not None and self._live(item[1], self._clock())

    def keys(self) -> list[Hashable]:
        self._purge(self._clock())
        return list(self._order)

    def purge_expired(self) -> int:
        return self._purge(self._clock())

    def _purge(self, now: float) -> int:
        removed = 0
        while self._expiries and self._expiries[0][0] <= now:
            _, stamp, key = heapq.heappop(self._expiries)
            item = self._data.get(key)
            if item is not None and item[2] == stamp:
                self._remove(key)
                removed += 1
        return removed
