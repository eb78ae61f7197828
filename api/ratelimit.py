"""Per-key token buckets: a burst is allowed, then a steady rate.

:class:`RateLimiter` keeps the buckets in memory (embedded mode: one process).
:class:`RedisRateLimiter` keeps them in Redis so every API node of a fleet draws from the same
bucket; it is the same bucket, written as GCRA (one timestamp per key, updated atomically by a
script), so both answer alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Limiter(Protocol):
    """Takes a token for a key."""

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0.0 if taken, else the seconds until one is there."""
        ...


@dataclass
class _Bucket:
    """Tokens left and when they were last counted."""

    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by key: ``capacity`` tokens, refilled at ``per_minute`` a minute.

    In memory, so limits reset when the service restarts and are per process: right for
    embedded mode; a fleet uses :class:`RedisRateLimiter`.
    """

    def __init__(
        self, per_minute: float, capacity: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(capacity)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0.0 if taken, else the seconds until one is there."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.setdefault(key, _Bucket(self.capacity, now))
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate


# GCRA: the key holds the "theoretical arrival time" (TAT). A request at `now` is allowed if
# TAT - now <= (capacity - 1) * interval; it then moves TAT to max(TAT, now) + interval. This
# is the token bucket above: a full bucket is TAT <= now, each token is one interval. Redis
# replies truncate Lua numbers, so the wait goes back as a string.
_GCRA = """
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now
if ARGV[3] ~= '' then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now - (capacity - 1) * interval
if wait > 1e-6 then return tostring(wait) end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
return '0'
"""


class RedisRateLimiter:
    """The token buckets of :class:`RateLimiter`, kept in Redis for all API nodes.

    ``clock`` (seconds) is for tests; by default the Redis server's clock is used, so nodes
    with slightly different clocks still agree.
    """

    def __init__(
        self,
        client: Any,
        per_minute: float,
        capacity: int,
        prefix: str,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.client = client
        self.interval = 60.0 / per_minute
        self.capacity = capacity
        self.prefix = prefix
        self._clock = clock
        self._script = client.register_script(_GCRA)

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0.0 if taken, else the seconds until one is there."""
        now = "" if self._clock is None else repr(self._clock())
        wait = self._script(
            keys=[f"{self.prefix}:rate:{key}"], args=[repr(self.interval), self.capacity, now]
        )
        return max(0.0, float(wait))
