"""Hidden tests: which exceptions count as failures, and what unexpected exceptions do."""

import pytest

CANARY = "GRADER-CANARY-circuit-breaker-497886f4abaf56de"

pytestmark = pytest.mark.category("exceptions")


def fail_times(kit, breaker, exc, times, name="Boom"):
    """Make ``times`` calls through ``breaker`` that raise ``exc`` (called ``name``); each must
    be re-raised."""
    failing = kit.script([("raise", exc, "down")])
    outcomes = kit.outcomes(breaker.call, [[failing]] * times)
    assert [o[:2] for o in outcomes] == [["raise", name]] * times


def trip(subject, kit, breaker, exc, threshold):
    """Make failing calls through ``breaker`` until it is OPEN (``threshold`` of them, or up to
    two more), whatever exactly the call that opens it raises."""
    failing = kit.script([("raise", exc, "down")])
    kit.outcomes(breaker.call, [[failing]] * threshold)
    for _ in range(2):
        if breaker.state == subject.State.OPEN:
            break
        kit.outcomes(breaker.call, [[failing]])
    assert breaker.state == subject.State.OPEN


def half_open_breaker(subject, kit, trials):
    """A HALF_OPEN breaker (expected exception Boom, threshold 2); returns (breaker, Boom)."""
    clock = kit.clock(100.0)
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=2,
        recovery_timeout=10.0,
        half_open_max_calls=trials,
        expected_exception=boom,
        clock=clock,
    )
    trip(subject, kit, breaker, boom, 2)
    clock.set(110.5)
    assert breaker.state == subject.State.HALF_OPEN
    return breaker, boom


def test_unexpected_exception_is_reraised_and_not_counted(subject, kit):
    """An exception that is not an expected_exception is re-raised and not counted as a failure."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=2, expected_exception=boom, clock=kit.clock()
    )
    with pytest.raises(ValueError, match="bad input"):
        breaker.call(kit.raises("ValueError", "bad input"))
    outcomes = kit.outcomes(breaker.call, [[kit.raises("ValueError", "x")]] * 5)
    assert [o[:2] for o in outcomes] == [["raise", "ValueError"]] * 5
    assert breaker.failure_count == 0
    assert breaker.state == subject.State.CLOSED


def test_unexpected_exception_does_not_reset_failure_count(subject, kit):
    """An unexpected exception while CLOSED is not a success either: the count is left as it was."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=4, expected_exception=boom, clock=kit.clock()
    )
    fail_times(kit, breaker, boom, 2)
    with pytest.raises(ValueError):
        breaker.call(kit.raises("ValueError", "unrelated"))
    assert breaker.failure_count == 2
    fail_times(kit, breaker, boom, 1)
    assert breaker.failure_count == 3


def test_subclass_of_expected_exception_counts(subject, kit):
    """Instances of subclasses of expected_exception count as failures too."""
    boom = kit.exception("Boom")
    sub_boom = kit.exception("SubBoom", base=boom)
    breaker = subject.CircuitBreaker(
        failure_threshold=3, expected_exception=boom, clock=kit.clock()
    )
    fail_times(kit, breaker, sub_boom, 1, name="SubBoom")
    assert breaker.failure_count == 1
    fail_times(kit, breaker, sub_boom, 1, name="SubBoom")
    assert breaker.failure_count == 2


def test_base_class_of_expected_exception_does_not_count(subject, kit):
    """Matching is like isinstance: an instance of a base class of expected_exception is not a
    failure."""
    transport_error = kit.exception("TransportError", base="OSError")
    breaker = subject.CircuitBreaker(
        failure_threshold=2, expected_exception=transport_error, clock=kit.clock()
    )
    with pytest.raises(OSError):
        breaker.call(kit.raises("OSError", "a plain OSError"))
    assert breaker.failure_count == 0
    fail_times(kit, breaker, transport_error, 1, name="TransportError")
    assert breaker.failure_count == 1


def test_tuple_of_expected_exceptions(subject, kit):
    """The expected_exception argument may be a tuple of classes: an instance of any of them
    is a failure."""
    boom = kit.exception("Boom")
    other = kit.exception("Other")
    breaker = subject.CircuitBreaker(
        failure_threshold=4, expected_exception=(boom, other), clock=kit.clock()
    )
    fail_times(kit, breaker, boom, 1)
    fail_times(kit, breaker, other, 1, name="Other")
    assert breaker.failure_count == 2
    with pytest.raises(ValueError):
        breaker.call(kit.raises("ValueError", "not in the tuple"))
    assert breaker.failure_count == 2
    fail_times(kit, breaker, other, 1, name="Other")
    assert breaker.failure_count == 3


def test_unexpected_exception_in_trial_frees_its_slot(subject, kit):
    """In HALF_OPEN an unexpected exception is re-raised, the breaker stays HALF_OPEN and the
    trial slot is freed for another call."""
    breaker, _ = half_open_breaker(subject, kit, trials=1)
    with pytest.raises(ValueError):
        breaker.call(kit.raises("ValueError", "unrelated"))
    assert breaker.state == subject.State.HALF_OPEN
    func = kit.returns("ok")
    assert breaker.call(func) == "ok"
    assert func.call_count() == 1
    assert breaker.state == subject.State.CLOSED


def test_unexpected_exception_in_trial_is_not_a_success(subject, kit):
    """An unexpected exception from a trial does not count towards the successes needed to close."""
    breaker, _ = half_open_breaker(subject, kit, trials=2)
    breaker.call(kit.returns("ok"))
    with pytest.raises(ValueError):
        breaker.call(kit.raises("ValueError", "unrelated"))
    assert breaker.state == subject.State.HALF_OPEN
    assert breaker.call(kit.returns("ok")) == "ok"
    assert breaker.state == subject.State.CLOSED


def test_unexpected_exception_in_trial_does_not_reopen(subject, kit):
    """Repeated unexpected exceptions in HALF_OPEN never re-open the breaker nor use up trials."""
    breaker, _ = half_open_breaker(subject, kit, trials=2)
    outcomes = kit.outcomes(breaker.call, [[kit.raises("TypeError", "t")]] * 4)
    assert [o[:2] for o in outcomes] == [["raise", "TypeError"]] * 4
    assert breaker.state == subject.State.HALF_OPEN
    func = kit.returns("ok")
    assert kit.call_each(breaker.call, [[func]] * 2) == ["ok", "ok"]
    assert breaker.state == subject.State.CLOSED
