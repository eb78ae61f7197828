"""Bug: an expected failure returns the fallback's result instead of re-raising.

Mutant of the reference solution for the ``circuit-breaker`` exercise.
"""

from __future__ import annotations

import enum
import functools
import threading
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


def _is_exception_class(value: Any) -> bool:
    """Whether ``value`` is a class deriving from ``BaseException``."""
    return isinstance(value, type) and issubclass(value, BaseException)


class CircuitBreaker:
    """Protects calls to a function, rejecting them while the function keeps failing."""

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        expected_exception: type[BaseException] | tuple[type[BaseException], ...] = Exception,
        fallback: Callable[..., Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if recovery_timeout <= 0:
            raise ValueError("recovery_timeout must be positive")
        if half_open_max_calls < 1:
            raise ValueError("half_open_max_calls must be at least 1")
        if isinstance(expected_exception, tuple):
            if not all(_is_exception_class(e) for e in expected_exception):
                raise TypeError("expected_exception must hold exception classes")
        elif not _is_exception_class(expected_exception):
            raise TypeError("expected_exception must be an exception class or a tuple of them")

        self._failure_threshold = failure_threshold
        self._recovery_timeout = recovery_timeout
        self._half_open_max_calls = half_open_max_calls
        self._expected = expected_exception
        self._fallback = fallback
        self._clock = clock

        self._lock = threading.Lock()
        self._state = State.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0  # trials admitted in this HALF_OPEN period and not freed
        self._successes = 0  # trials that succeeded in this HALF_OPEN period
        # Bumped on every change of state: an outcome from an older period changes nothing.
        self._period = 0

    # -- state bookkeeping (all called with the lock held) -------------------------------

    def _refresh(self) -> State:
        """The current state, turning OPEN into HALF_OPEN once the recovery timeout passed."""
        if (
            self._state is State.OPEN
            and self._clock() - self._opened_at >= self._recovery_timeout
        ):
            self._enter(State.HALF_OPEN)
        return self._state

    def _enter(self, state: State) -> None:
        """Switch to ``state`` and start a new period."""
        self._state = state
        self._period += 1
        self._trials = 0
        self._successes = 0
        if state is State.OPEN:
            self._opened_at = self._clock()
        elif state is State.CLOSED:
            self._failures = 0

    # -- public interface ----------------------------------------------------------------

    @property
    def state(self) -> State:
        """The current state, taking elapsed time into account."""
        with self._lock:
            return self._refresh()

    @property
    def failure_count(self) -> int:
        """Consecutive expected failures counted while CLOSED."""
        with self._lock:
            return self._failures

    def reset(self) -> None:
        """Return to CLOSED with every count at zero."""
        with self._lock:
            self._enter(State.CLOSED)

    def call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``func(*args, **kwargs)`` through the breaker."""
        with self._lock:
            state = self._refresh()
            if state is State.CLOSED:
                admitted = True
            elif state is State.HALF_OPEN and self._trials < self._half_open_max_calls:
                self._trials += 1
                admitted = True
            else:
                admitted = False
            period = self._period

        if not admitted:
            if self._fallback is not None:
                return self._fallback(*args, **kwargs)
            raise CircuitOpenError(f"circuit is {state.value}; call rejected")

        # The lock is not held while ``func`` runs, so calls may overlap.
        try:
            result = func(*args, **kwargs)
        except self._expected:
            self._record_failure(state, period)
            if self._fallback is not None:
                return self._fallback(*args, **kwargs)
            raise
        except BaseException:
            self._record_unexpected(state, period)
            raise
        self._record_success(state, period)
        return result

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator form: ``@breaker`` routes every call of ``func`` through this breaker."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self.call(func, *args, **kwargs)

        return wrapper

    # -- outcomes ------------------------------------------------------------------------

    def _record_failure(self, state: State, period: int) -> None:
        """An expected exception from a call admitted in ``state`` during ``period``."""
        with self._lock:
            if period != self._period:
                return
            if state is State.CLOSED:
                self._failures += 1
                if self._failures >= self._failure_threshold:
                    self._enter(State.OPEN)
            else:
                self._enter(State.OPEN)

    def _record_success(self, state: State, period: int) -> None:
        """A successful call admitted in ``state`` during ``period``."""
        with self._lock:
            if period != self._period:
                return
            if state is State.CLOSED:
                self._failures = 0
            else:
                self._successes += 1
                if self._successes >= self._half_open_max_calls:
                    self._enter(State.CLOSED)

    def _record_unexpected(self, state: State, period: int) -> None:
        """An unexpected exception: neither failure nor success; a trial frees its slot."""
        with self._lock:
            if period == self._period and state is State.HALF_OPEN:
                self._trials -= 1
