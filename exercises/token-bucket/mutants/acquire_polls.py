"""Bug: acquire polls in fixed 10 ms sleeps instead of sleeping until the tokens are due.

A thread-safe token bucket rate limiter with an injectable clock and sleep.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

#: Slack for float rounding: a shortfall this small counts as "enough tokens".
_EPS = 1e-9

#: Longest single sleep while waiting for tokens that will never come (refill rate 0).
_MAX_SLEEP = 60.0


def _number(name: str, value: object) -> float:
    """``value`` as a float, if it is an int or a float that is not NaN."""
    if not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    return float(value)


class TokenBucket:
    """A bucket of up to ``capacity`` tokens that refills at ``refill_rate`` tokens per second.

    The bucket starts full. Time is read only through ``clock`` and waiting happens only
    through ``sleep``, so both can be replaced (by fakes in tests). All methods are thread safe.
    """

    def __init__(
        self,
        capacity: float,
        refill_rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        capacity = _number("capacity", capacity)
        refill_rate = _number("refill_rate", refill_rate)
        if capacity <= 0:
            raise ValueError(f"capacity must be > 0, got {capacity}")
        if refill_rate < 0:
            raise ValueError(f"refill_rate must be >= 0, got {refill_rate}")
        self._capacity = capacity
        self._rate = refill_rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = capacity
        # The latest clock reading used for refilling; it never moves backwards.
        self._last = float(clock())

    # -- internals (call with the lock held) ---------------------------------------------

    def _refill(self) -> float:
        """Add the tokens earned since the latest reading; return the current reading."""
        now = float(self._clock())
        if now > self._last:
            earned = (now - self._last) * self._rate
            self._tokens = min(self._capacity, self._tokens + earned)
            self._last = now
        # A reading earlier than ``_last`` (a clock that went backwards) changes nothing.
        return now

    def _wait(self, n: float, now: float) -> float:
        """Seconds from ``now`` until ``n`` tokens are held, if nobody else takes any."""
        deficit = n - self._tokens
        if deficit <= _EPS:
            return 0.0
        if self._rate == 0:
            return math.inf
        # Tokens accrue only once the clock is past ``_last`` again.
        return (self._last - now) + deficit / self._rate

    def _take(self, n: float) -> bool:
        """Take ``n`` tokens if they are held."""
        if self._tokens >= n - _EPS:
            self._tokens = max(0.0, self._tokens - n)
            return True
        return False

    def _amount(self, n: object) -> float:
        """Validate a number of tokens asked for."""
        amount = _number("n", n)
        if amount <= 0:
            raise ValueError(f"n must be > 0, got {amount}")
        if amount > self._capacity:
            raise ValueError(f"n must be <= capacity ({self._capacity}), got {amount}")
        return amount

    # -- public interface ----------------------------------------------------------------

    @property
    def tokens(self) -> float:
        """The tokens available now."""
        with self._lock:
            self._refill()
            return self._tokens

    def try_acquire(self, n: float = 1) -> bool:
        """Take ``n`` tokens and return ``True`` if they are available now; else take nothing."""
        amount = self._amount(n)
        with self._lock:
            self._refill()
            return self._take(amount)

    def time_until(self, n: float = 1) -> float:
        """Seconds until ``n`` tokens are available: ``0.0`` if now, ``math.inf`` if never."""
        amount = self._amount(n)
        with self._lock:
            now = self._refill()
            return self._wait(amount, now)

    def acquire(self, n: float = 1, timeout: float | None = None) -> bool:
        """Wait (through ``sleep``) until ``n`` tokens are taken and return ``True``.

        With a ``timeout``, return ``False`` without taking anything as soon as the tokens
        cannot be had within ``timeout`` seconds of the call.
        """
        amount = self._amount(n)
        if timeout is not None:
            timeout = _number("timeout", timeout)
            if timeout < 0:
                raise ValueError(f"timeout must be >= 0, got {timeout}")
        deadline: float | None = None
        while True:
            with self._lock:
                now = self._refill()
                if self._take(amount):
                    return True
                wait = self._wait(amount, now)
                if timeout is not None:
                    if deadline is None:
                        deadline = now + timeout
                    if wait > deadline - now + _EPS:
                        return False
            # Sleep without the lock, so other callers are not held up meanwhile.
            self._sleep(0.01)
