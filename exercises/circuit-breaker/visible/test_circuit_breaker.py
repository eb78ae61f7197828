"""Visible tests for the circuit breaker: the basics. The hidden suite checks much more."""

import pytest
from circuit_breaker import CircuitBreaker, CircuitOpenError, State


class FakeClock:
    """A clock that only moves when the test says so."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Down(Exception):
    """The protected dependency is down."""


def fail() -> None:
    raise Down("down")


def trip(breaker: CircuitBreaker, times: int) -> None:
    """Make ``times`` failing calls through ``breaker``."""
    for _ in range(times):
        with pytest.raises(Down):
            breaker.call(fail)


def test_closed_breaker_passes_calls_through():
    breaker = CircuitBreaker(clock=FakeClock())
    assert breaker.state == State.CLOSED
    assert breaker.call(lambda a, b=0: a + b, 2, b=3) == 5
    assert breaker.failure_count == 0


def test_failures_are_counted_and_a_success_resets_them():
    breaker = CircuitBreaker(failure_threshold=3, clock=FakeClock())
    trip(breaker, 2)
    assert breaker.failure_count == 2
    assert breaker.state == State.CLOSED
    breaker.call(lambda: "ok")
    assert breaker.failure_count == 0


def test_opens_at_threshold_and_rejects_without_calling():
    breaker = CircuitBreaker(failure_threshold=2, clock=FakeClock())
    trip(breaker, 2)
    assert breaker.state == State.OPEN
    called = []
    with pytest.raises(CircuitOpenError):
        breaker.call(called.append, 1)
    assert called == []


def test_half_open_after_recovery_timeout_then_a_success_closes():
    clock = FakeClock(100.0)
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=10.0, clock=clock)
    trip(breaker, 1)
    clock.now = 109.0
    assert breaker.state == State.OPEN
    clock.now = 110.0
    assert breaker.state == State.HALF_OPEN
    assert breaker.call(lambda: "ok") == "ok"
    assert breaker.state == State.CLOSED
    assert breaker.failure_count == 0


def test_failed_trial_reopens():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=5.0, clock=clock)
    trip(breaker, 1)
    clock.now = 5.0
    trip(breaker, 1)
    assert breaker.state == State.OPEN


def test_fallback_replaces_rejection():
    breaker = CircuitBreaker(
        failure_threshold=1, fallback=lambda *a, **k: ("cached", a, k), clock=FakeClock()
    )
    trip(breaker, 1)
    assert breaker.call(fail, 1, x=2) == ("cached", (1,), {"x": 2})


def test_decorator_keeps_name_and_doc():
    breaker = CircuitBreaker(clock=FakeClock())

    @breaker
    def fetch(x):
        """Fetch x."""
        return x * 2

    assert fetch(21) == 42
    assert fetch.__name__ == "fetch"
    assert fetch.__doc__ == "Fetch x."


def test_invalid_arguments_raise_value_error():
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker(recovery_timeout=0)
    with pytest.raises(ValueError):
        CircuitBreaker(half_open_max_calls=0)
