"""Hidden tests: the fallback for rejected calls, and the decorator form.

Setups open the breaker with ``trip``, which does not depend on exactly which failure opens
it, so that these tests check the fallback and the decorator only.
"""

import pytest

CANARY = "GRADER-CANARY-circuit-breaker-497886f4abaf56de"

pytestmark = pytest.mark.category("fallback")


def trip(subject, kit, breaker, call, args, threshold):
    """Call ``call(*args)`` (a failing call through ``breaker``) until ``breaker`` is OPEN:
    ``threshold`` times, or up to two more, whatever exactly the call that opens it raises."""
    kit.outcomes(call, [args] * threshold)
    for _ in range(2):
        if breaker.state == subject.State.OPEN:
            break
        kit.outcomes(call, [args])
    assert breaker.state == subject.State.OPEN


def test_fallback_result_returned_when_open(subject, kit):
    """While OPEN with a fallback, call() returns the fallback's result and never calls func."""
    boom = kit.exception("Boom")
    fallback = kit.returns({"cached": True})
    breaker = subject.CircuitBreaker(
        failure_threshold=1, expected_exception=boom, fallback=fallback, clock=kit.clock()
    )
    trip(subject, kit, breaker, breaker.call, [kit.raises(boom, "down")], 1)
    func = kit.returns("live")
    assert breaker.call(func) == {"cached": True}
    assert breaker.call(func) == {"cached": True}
    assert func.call_count() == 0
    assert breaker.state == subject.State.OPEN


def test_fallback_receives_the_call_arguments(subject, kit):
    """The fallback is called with the same positional and keyword arguments as the call."""
    boom = kit.exception("Boom")
    fallback = kit.returns("fallback")
    breaker = subject.CircuitBreaker(
        failure_threshold=1, expected_exception=boom, fallback=fallback, clock=kit.clock()
    )
    trip(subject, kit, breaker, breaker.call, [kit.raises(boom, "down")], 1)
    breaker.call(kit.returns("live"), 1, "b", c=[3], d=None)
    breaker.call(kit.returns("live"))
    assert fallback.calls() == [[[1, "b"], {"c": [3], "d": None}], [[], {}]]


def test_fallback_not_used_for_failures_while_closed(subject, kit):
    """A fallback never replaces an exception from func: expected failures are still re-raised."""
    boom = kit.exception("Boom")
    fallback = kit.returns("fallback")
    breaker = subject.CircuitBreaker(
        failure_threshold=2, expected_exception=boom, fallback=fallback, clock=kit.clock()
    )
    assert breaker.call(kit.returns("live")) == "live"
    with pytest.raises(ValueError):
        breaker.call(kit.raises("ValueError", "unexpected"))
    with pytest.raises(boom):
        breaker.call(kit.raises(boom, "down"))
    assert fallback.call_count() == 0


def test_fallback_not_used_for_failed_trial(subject, kit):
    """A failed HALF_OPEN trial re-raises its exception even when a fallback is set."""
    clock = kit.clock(50.0)
    boom = kit.exception("Boom")
    fallback = kit.returns("fallback")
    breaker = subject.CircuitBreaker(
        failure_threshold=1,
        recovery_timeout=5.0,
        expected_exception=boom,
        fallback=fallback,
        clock=clock,
    )
    trip(subject, kit, breaker, breaker.call, [kit.raises(boom, "down")], 1)
    clock.set(55.5)
    with pytest.raises(boom):
        breaker.call(kit.raises(boom, "trial failed"))
    assert fallback.call_count() == 0
    assert breaker.call(kit.returns("live")) == "fallback"


def test_decorator_keeps_name_and_doc(subject, kit):
    """Decorating a function with the breaker keeps the function's __name__ and __doc__."""
    breaker = subject.CircuitBreaker(clock=kit.clock())
    wrapped = breaker(kit.script([("return", 1)], name="fetch", doc="Fetch things."))
    assert wrapped.__name__ == "fetch"
    assert wrapped.__doc__ == "Fetch things."


def test_decorated_function_passes_arguments_and_result(subject, kit):
    """Calling the decorated function calls func with the same arguments and returns its result."""
    breaker = subject.CircuitBreaker(clock=kit.clock())
    func = kit.script([("return", "first"), ("return", "second")], name="fetch")
    wrapped = breaker(func)
    assert wrapped(1, key="k") == "first"
    assert wrapped() == "second"
    assert func.calls() == [[[1], {"key": "k"}], [[], {}]]


def test_decorated_function_goes_through_the_breaker(subject, kit):
    """Failures of a decorated function count in its breaker, which then rejects its calls."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=2, expected_exception=boom, clock=kit.clock()
    )
    func = kit.script([("raise", boom, "down")], name="fetch")
    wrapped = breaker(func)
    with pytest.raises(boom):
        wrapped()
    assert breaker.failure_count == 1
    trip(subject, kit, breaker, wrapped, [2], 1)
    failures = func.call_count()
    with pytest.raises(subject.CircuitOpenError):
        wrapped(3)
    assert func.call_count() == failures


def test_decorated_function_uses_fallback_when_open(subject, kit):
    """A decorated function of an OPEN breaker returns the fallback's result for its arguments."""
    boom = kit.exception("Boom")
    fallback = kit.returns("stale")
    breaker = subject.CircuitBreaker(
        failure_threshold=1, expected_exception=boom, fallback=fallback, clock=kit.clock()
    )
    wrapped = breaker(kit.script([("raise", boom, "down")], name="fetch"))
    trip(subject, kit, breaker, wrapped, [0], 1)
    assert wrapped(7, fresh=False) == "stale"
    assert fallback.calls() == [[[7], {"fresh": False}]]
