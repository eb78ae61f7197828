"""A thread-safe circuit breaker. See README.md for the full statement.

Fill in every method of ``CircuitBreaker``. ``State`` and ``CircuitOpenError`` are complete.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import Any


class State(enum.Enum):
    """The three states of a circuit breaker."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(Exception):
    """Raised instead of calling the protected function while the breaker rejects calls."""


class CircuitBreaker:
    """Protects calls to a function, rejecting them while the function keeps failing.

    States: CLOSED (calls go through, consecutive expected failures are counted), OPEN (calls
    are rejected without calling the function) and HALF_OPEN (a limited number of trial calls
    decide whether to close again or re-open).
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        expected_exception: type[BaseException] | tuple[type[BaseException], ...] = Exception,
        fallback: Callable[..., Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create a CLOSED breaker with a failure count of 0.

        Args:
            failure_threshold: consecutive expected failures (while CLOSED) that open the
                breaker; must be >= 1.
            recovery_timeout: seconds after opening until the breaker is HALF_OPEN; must be > 0.
            half_open_max_calls: trial calls admitted in a half-open period, and the number of
                successful trials that close the breaker; must be >= 1.
            expected_exception: an exception class or a tuple of them (anything else raises
                TypeError); only instances count as failures, any other exception is
                re-raised and counts as nothing.
            fallback: None, or a callable whose result ``fallback(*args, **kwargs)`` is returned
                for a rejected call instead of raising CircuitOpenError.
            clock: returns the current time in seconds; the only source of time.

        Raises:
            ValueError: an argument is out of range (TypeError is acceptable for a wrong type).
        """
        raise NotImplementedError("implement CircuitBreaker.__init__")

    @property
    def state(self) -> State:
        """The current State, taking elapsed time into account.

        An OPEN breaker whose recovery timeout has passed (clock() >= opened_at +
        recovery_timeout) reports HALF_OPEN.
        """
        raise NotImplementedError("implement CircuitBreaker.state")

    @property
    def failure_count(self) -> int:
        """Consecutive expected failures counted while CLOSED.

        A success while CLOSED and every change to CLOSED set it to 0; nothing that happens
        while OPEN or HALF_OPEN changes it.
        """
        raise NotImplementedError("implement CircuitBreaker.failure_count")

    def reset(self) -> None:
        """Return to CLOSED with all counts at 0."""
        raise NotImplementedError("implement CircuitBreaker.reset")

    def call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``func(*args, **kwargs)`` through the breaker and return its result.

        CLOSED: call func; success resets the failure count, an expected exception is counted
        and re-raised (reaching failure_threshold opens the breaker).
        OPEN, or HALF_OPEN with half_open_max_calls trials already admitted: do not call func;
        raise CircuitOpenError, or return fallback(*args, **kwargs) if a fallback was given.
        HALF_OPEN: an expected exception from a trial re-opens the breaker (restarting the
        recovery timer) and is re-raised; half_open_max_calls successful trials close it. Each
        half-open period starts with no trial admitted and none succeeded.
        Unexpected exceptions are re-raised and count as neither failure nor success (a trial
        frees its slot). No lock may be held while func or fallback runs. A call that finishes
        after the breaker left the state (or half-open period) it was admitted in changes no
        count and no state.
        """
        raise NotImplementedError("implement CircuitBreaker.call")

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator form: return a function that calls ``self.call(func, *args, **kwargs)``.

        The returned function keeps func's ``__name__`` and ``__doc__``.
        """
        raise NotImplementedError("implement CircuitBreaker.__call__")
