"""Hidden tests: the CLOSED path, failure counting and the default settings."""

import pytest

CANARY = "GRADER-CANARY-circuit-breaker-497886f4abaf56de"

pytestmark = pytest.mark.category("basics")


def fail_times(kit, breaker, exc, times, name="Boom"):
    """Make ``times`` calls through ``breaker`` that raise ``exc`` (called ``name``); each must
    be re-raised."""
    failing = kit.script([("raise", exc, "down")])
    outcomes = kit.outcomes(breaker.call, [[failing]] * times)
    assert [o[:2] for o in outcomes] == [["raise", name]] * times


def test_new_breaker_is_closed_with_no_failures(subject, kit):
    """A new breaker is CLOSED (value "closed") with a failure count of 0."""
    breaker = subject.CircuitBreaker(clock=kit.clock())
    assert breaker.state == subject.State.CLOSED
    assert breaker.state.value == "closed"
    assert breaker.failure_count == 0


def test_closed_call_returns_the_result(subject, kit):
    """While CLOSED, call() calls the function and returns its result."""
    breaker = subject.CircuitBreaker(clock=kit.clock())
    func = kit.script([("return", {"id": 7}), ("return", [1, 2])])
    assert breaker.call(func) == {"id": 7}
    assert breaker.call(func) == [1, 2]
    assert func.call_count() == 2


def test_closed_call_passes_args_and_kwargs(subject, kit):
    """A call through the breaker passes func exactly the positional and keyword arguments
    given to call()."""
    breaker = subject.CircuitBreaker(clock=kit.clock())
    func = kit.returns("ok")
    breaker.call(func, 1, "two", [3], key="value", n=None)
    breaker.call(func)
    assert func.calls() == [[[1, "two", [3]], {"key": "value", "n": None}], [[], {}]]


def test_expected_failure_is_reraised_and_counted(subject, kit):
    """An expected exception is re-raised unchanged and adds 1 to the failure count."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=3, expected_exception=boom, clock=kit.clock()
    )
    with pytest.raises(boom, match="service down"):
        breaker.call(kit.raises(boom, "service down"))
    assert breaker.failure_count == 1
    assert breaker.state == subject.State.CLOSED


def test_failures_below_threshold_keep_breaker_closed(subject, kit):
    """Failures below failure_threshold are counted and the breaker stays CLOSED and working."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=4, expected_exception=boom, clock=kit.clock()
    )
    fail_times(kit, breaker, boom, 3)
    assert breaker.failure_count == 3
    assert breaker.state == subject.State.CLOSED
    func = kit.returns("still works")
    assert breaker.call(func) == "still works"
    assert func.call_count() == 1


def test_success_resets_failure_count(subject, kit):
    """A success while CLOSED sets the failure count to 0, so only consecutive failures count."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=3, expected_exception=boom, clock=kit.clock()
    )
    fail_times(kit, breaker, boom, 2)
    breaker.call(kit.returns(None))
    assert breaker.failure_count == 0
    fail_times(kit, breaker, boom, 2)
    assert breaker.failure_count == 2
    assert breaker.state == subject.State.CLOSED


def test_default_threshold_and_recovery_timeout(subject, kit):
    """The defaults are failure_threshold=5, recovery_timeout=30.0 and half_open_max_calls=1."""
    clock = kit.clock(1000.0)
    breaker = subject.CircuitBreaker(clock=clock)
    boom = kit.exception("Boom")
    fail_times(kit, breaker, boom, 4)
    assert breaker.state == subject.State.CLOSED
    fail_times(kit, breaker, boom, 1)
    assert breaker.state == subject.State.OPEN
    clock.set(1029.5)
    assert breaker.state == subject.State.OPEN
    clock.set(1030.5)
    assert breaker.state == subject.State.HALF_OPEN
    assert breaker.call(kit.returns("ok")) == "ok"
    assert breaker.state == subject.State.CLOSED


def test_default_expected_exception_counts_any_exception(subject, kit):
    """By default (expected_exception=Exception) any Exception subclass counts as a failure."""
    breaker = subject.CircuitBreaker(failure_threshold=4, clock=kit.clock())
    with pytest.raises(KeyError):
        breaker.call(kit.raises("KeyError", "missing"))
    with pytest.raises(RuntimeError):
        breaker.call(kit.raises("RuntimeError", "broken"))
    assert breaker.failure_count == 2
    with pytest.raises(ConnectionError):
        breaker.call(kit.raises("ConnectionError", "refused"))
    assert breaker.failure_count == 3


def test_closed_success_resets_count_whatever_the_trial_limit(subject, kit):
    """A success while CLOSED sets the failure count to 0 also when half_open_max_calls is
    more than 1."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=3, half_open_max_calls=3, expected_exception=boom, clock=kit.clock()
    )
    fail_times(kit, breaker, boom, 2)
    assert breaker.call(kit.returns("ok")) == "ok"
    assert breaker.failure_count == 0
    fail_times(kit, breaker, boom, 2)
    assert breaker.failure_count == 2
    assert breaker.state == subject.State.CLOSED
