"""A thread-safe token bucket rate limiter with an injectable clock and sleep.

Replace every ``raise NotImplementedError`` below with your implementation. Use only the
standard library. See README.md for the full statement.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """A bucket of up to ``capacity`` tokens that refills at ``refill_rate`` tokens per second.

    The bucket starts full. Tokens refill continuously: ``dt`` seconds later the bucket holds
    ``min(capacity, tokens + dt * refill_rate)``. Time is read only through ``clock`` and waiting
    happens only through ``sleep``. All methods are thread safe.
    """

    def __init__(
        self,
        capacity: float,
        refill_rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        """Create a full bucket.

        Args:
            capacity: the most tokens the bucket holds; a number > 0.
            refill_rate: tokens added per second; a number >= 0 (0 never refills).
            clock: a function with no arguments returning the current time in seconds.
            sleep: a function that waits the given number of seconds.

        Raises:
            ValueError: ``capacity <= 0``, ``refill_rate < 0``, or either is NaN (a value that
                is not a number may raise ``TypeError`` instead).
        """
        raise NotImplementedError("implement TokenBucket.__init__")

    @property
    def tokens(self) -> float:
        """The tokens available now, as a float. Reading it takes nothing."""
        raise NotImplementedError("implement TokenBucket.tokens")

    def try_acquire(self, n: float = 1) -> bool:
        """Take ``n`` tokens and return ``True`` if they are available now.

        Otherwise take nothing and return ``False``. Never waits.

        Raises:
            ValueError: ``n <= 0`` or ``n > capacity``.
        """
        raise NotImplementedError("implement TokenBucket.try_acquire")

    def time_until(self, n: float = 1) -> float:
        """Seconds until ``n`` tokens are available, if nobody else takes any.

        ``0.0`` if they are available now, ``math.inf`` if they never will be. Takes nothing.

        Raises:
            ValueError: ``n <= 0`` or ``n > capacity``.
        """
        raise NotImplementedError("implement TokenBucket.time_until")

    def acquire(self, n: float = 1, timeout: float | None = None) -> bool:
        """Wait, only through the injected ``sleep``, until ``n`` tokens are taken; return ``True``.

        The tokens are taken as soon as they are available (sleep no longer than needed).
        With a ``timeout`` (seconds), return ``False`` without taking anything once the tokens
        cannot be had within ``timeout`` seconds of the call (returning at once when that is
        already certain is allowed); it never waits longer than ``timeout`` in all. The
        timeout is measured with ``clock`` from its reading at the call (whatever it reads)
        and is not restarted by later sleeps; tokens due exactly when it ends count as within
        it. ``sleep`` may return late: once the timeout has passed, wait no more. Never hold a
        lock while sleeping: other threads' calls go ahead meanwhile. ``timeout=0`` does not
        wait at all.

        Raises:
            ValueError: ``n <= 0``, ``n > capacity``, ``timeout < 0``, or ``n`` or ``timeout``
                is NaN.
        """
        raise NotImplementedError("implement TokenBucket.acquire")
