"""Hidden tests: opening, the recovery timeout, half-open trials, failure_count and reset().

Only the tests about the threshold count failures exactly and only the tests about the
recovery boundary read the clock exactly at it; the others open the breaker with ``trip`` and
look at the clock past the boundary, so that each test checks its own rule.
"""

import pytest

CANARY = "GRADER-CANARY-circuit-breaker-497886f4abaf56de"

pytestmark = pytest.mark.category("transitions")


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


def open_breaker(subject, kit, clock, threshold=2, recovery=10.0, trials=1):
    """A breaker (expected exception Boom) opened at ``clock.now()``; returns (breaker, Boom)."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=threshold,
        recovery_timeout=recovery,
        half_open_max_calls=trials,
        expected_exception=boom,
        clock=clock,
    )
    trip(subject, kit, breaker, boom, threshold)
    return breaker, boom


def test_opens_when_failure_count_reaches_threshold(subject, kit):
    """The failure that brings the count to failure_threshold opens the breaker and is re-raised."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=3, expected_exception=boom, clock=kit.clock()
    )
    fail_times(kit, breaker, boom, 2)
    assert breaker.state == subject.State.CLOSED
    with pytest.raises(boom):
        breaker.call(kit.raises(boom, "third"))
    assert breaker.state == subject.State.OPEN
    assert breaker.state.value == "open"


def test_threshold_of_one_opens_on_first_failure(subject, kit):
    """With failure_threshold=1 a single expected failure opens the breaker."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=1, expected_exception=boom, clock=kit.clock()
    )
    fail_times(kit, breaker, boom, 1)
    assert breaker.state == subject.State.OPEN
    assert breaker.failure_count == 1


def test_failure_count_equals_threshold_right_after_opening(subject, kit):
    """Right after opening, failure_count equals failure_threshold."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=4, expected_exception=boom, clock=kit.clock()
    )
    fail_times(kit, breaker, boom, 4)
    assert breaker.state == subject.State.OPEN
    assert breaker.failure_count == 4


def test_open_rejects_without_calling_func(subject, kit):
    """While OPEN, call() raises CircuitOpenError and never calls the function."""
    breaker, _ = open_breaker(subject, kit, kit.clock(500.0))
    func = kit.returns("should not run")
    with pytest.raises(subject.CircuitOpenError):
        breaker.call(func, 1, key=2)
    outcomes = kit.outcomes(breaker.call, [[func]] * 5)
    assert [o[:2] for o in outcomes] == [["raise", "CircuitOpenError"]] * 5
    assert func.call_count() == 0


def test_stays_open_before_recovery_timeout(subject, kit):
    """Before recovery_timeout seconds have passed since opening, the breaker is still OPEN."""
    clock = kit.clock(100.0)
    breaker, _ = open_breaker(subject, kit, clock, recovery=10.0)
    clock.set(109.75)
    assert breaker.state == subject.State.OPEN
    func = kit.returns("early")
    with pytest.raises(subject.CircuitOpenError):
        breaker.call(func)
    assert func.call_count() == 0


def test_half_open_exactly_at_recovery_timeout(subject, kit):
    """The breaker is HALF_OPEN from the moment clock() >= opened_at + recovery_timeout."""
    clock = kit.clock(100.0)
    breaker, _ = open_breaker(subject, kit, clock, recovery=10.0)
    clock.set(110.0)
    assert breaker.state == subject.State.HALF_OPEN
    assert breaker.state.value == "half_open"
    func = kit.returns("probe")
    assert breaker.call(func) == "probe"
    assert func.call_count() == 1


def test_half_open_admits_a_trial_call(subject, kit):
    """Once HALF_OPEN, a call is admitted as a trial: the function runs with the given args."""
    clock = kit.clock(100.0)
    breaker, _ = open_breaker(subject, kit, clock, recovery=10.0)
    clock.set(110.5)
    func = kit.returns("probe")
    assert breaker.call(func, "a", k=1) == "probe"
    assert func.calls() == [[["a"], {"k": 1}]]


def test_recovery_timer_starts_when_breaker_opens(subject, kit):
    """The recovery timeout counts from the failure that opened the breaker, not the first one."""
    clock = kit.clock(100.0)
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=2, recovery_timeout=10.0, expected_exception=boom, clock=clock
    )
    fail_times(kit, breaker, boom, 1)
    clock.set(106.0)
    trip(subject, kit, breaker, boom, 1)
    clock.set(115.5)
    assert breaker.state == subject.State.OPEN
    clock.set(116.5)
    assert breaker.state == subject.State.HALF_OPEN


def test_successful_trial_closes_and_zeroes_failure_count(subject, kit):
    """With one trial allowed, a successful trial closes the breaker with a failure count of 0."""
    clock = kit.clock(100.0)
    breaker, boom = open_breaker(subject, kit, clock, threshold=3, recovery=10.0)
    clock.set(110.5)
    assert breaker.call(kit.returns("ok")) == "ok"
    assert breaker.state == subject.State.CLOSED
    assert breaker.failure_count == 0
    fail_times(kit, breaker, boom, 1)
    assert breaker.failure_count == 1
    assert breaker.state == subject.State.CLOSED


def test_failed_trial_reopens_and_reraises(subject, kit):
    """An expected exception from a trial is re-raised and the breaker is OPEN again."""
    clock = kit.clock(100.0)
    breaker, boom = open_breaker(subject, kit, clock, recovery=10.0)
    clock.set(110.5)
    with pytest.raises(boom, match="still down"):
        breaker.call(kit.raises(boom, "still down"))
    assert breaker.state == subject.State.OPEN
    func = kit.returns("rejected")
    with pytest.raises(subject.CircuitOpenError):
        breaker.call(func)
    assert func.call_count() == 0


def test_failed_trial_restarts_recovery_timer(subject, kit):
    """After a failed trial the recovery timeout counts again from the moment of that failure."""
    clock = kit.clock(100.0)
    breaker, boom = open_breaker(subject, kit, clock, recovery=10.0)
    clock.set(112.0)
    with pytest.raises(boom):
        breaker.call(kit.raises(boom, "still down"))
    clock.set(121.5)
    assert breaker.state == subject.State.OPEN
    clock.set(122.5)
    assert breaker.state == subject.State.HALF_OPEN


def test_each_half_open_period_admits_new_trials(subject, kit):
    """Each half-open period starts with no trial admitted: after a failed trial and a new
    recovery timeout, a new trial is admitted again."""
    clock = kit.clock(100.0)
    breaker, boom = open_breaker(subject, kit, clock, recovery=10.0)
    clock.set(110.5)
    with pytest.raises(boom):
        breaker.call(kit.raises(boom, "still down"))
    clock.set(121.0)
    assert breaker.state == subject.State.HALF_OPEN
    func = kit.returns("recovered")
    assert breaker.call(func) == "recovered"
    assert func.call_count() == 1
    assert breaker.state == subject.State.CLOSED


def test_successes_of_an_earlier_half_open_period_do_not_count(subject, kit):
    """Each half-open period starts with no trial succeeded: successes from an earlier period,
    which ended with a failed trial, do not count towards closing."""
    clock = kit.clock(100.0)
    breaker, boom = open_breaker(subject, kit, clock, recovery=10.0, trials=2)
    clock.set(110.5)
    assert breaker.call(kit.returns("ok")) == "ok"
    with pytest.raises(boom):
        breaker.call(kit.raises(boom, "down again"))
    clock.set(121.0)
    assert breaker.call(kit.returns("ok")) == "ok"
    assert breaker.state == subject.State.HALF_OPEN
    assert breaker.call(kit.returns("ok")) == "ok"
    assert breaker.state == subject.State.CLOSED


def test_closes_only_after_all_trials_succeed(subject, kit):
    """With half_open_max_calls=3 the breaker stays HALF_OPEN until the third trial succeeds."""
    clock = kit.clock(100.0)
    breaker, _ = open_breaker(subject, kit, clock, recovery=10.0, trials=3)
    clock.set(110.5)
    func = kit.returns("ok")
    breaker.call(func)
    assert breaker.state == subject.State.HALF_OPEN
    breaker.call(func)
    assert breaker.state == subject.State.HALF_OPEN
    breaker.call(func)
    assert breaker.state == subject.State.CLOSED
    assert func.call_count() == 3


def test_trial_failure_after_some_successes_reopens(subject, kit):
    """Any failed trial re-opens the breaker, even after earlier trials succeeded."""
    clock = kit.clock(100.0)
    breaker, boom = open_breaker(subject, kit, clock, recovery=10.0, trials=3)
    clock.set(110.5)
    breaker.call(kit.returns("ok"))
    breaker.call(kit.returns("ok"))
    with pytest.raises(boom):
        breaker.call(kit.raises(boom, "down"))
    assert breaker.state == subject.State.OPEN


def test_failure_count_frozen_while_open_and_half_open(subject, kit):
    """Nothing that happens while OPEN or HALF_OPEN changes failure_count."""
    clock = kit.clock(100.0)
    breaker, boom = open_breaker(subject, kit, clock, threshold=4, recovery=10.0, trials=2)
    opened_with = breaker.failure_count
    kit.outcomes(breaker.call, [[kit.returns("x")]] * 3)
    assert breaker.failure_count == opened_with
    clock.set(110.5)
    assert breaker.failure_count == opened_with
    breaker.call(kit.returns("ok"))
    assert breaker.state == subject.State.HALF_OPEN
    assert breaker.failure_count == opened_with
    with pytest.raises(boom):
        breaker.call(kit.raises(boom, "down"))
    assert breaker.state == subject.State.OPEN
    assert breaker.failure_count == opened_with


def test_breaker_can_cycle_again_after_closing(subject, kit):
    """After closing, the breaker counts failures afresh and re-opens with a new recovery timer."""
    clock = kit.clock(100.0)
    breaker, boom = open_breaker(subject, kit, clock, threshold=2, recovery=10.0)
    clock.set(110.5)
    breaker.call(kit.returns("ok"))
    assert breaker.state == subject.State.CLOSED
    clock.set(200.0)
    trip(subject, kit, breaker, boom, 2)
    clock.set(209.5)
    assert breaker.state == subject.State.OPEN
    clock.set(210.5)
    assert breaker.state == subject.State.HALF_OPEN


def test_reset_from_open_closes(subject, kit):
    """Calling reset() makes an OPEN breaker CLOSED with a failure count of 0, and calls go
    through again."""
    breaker, _ = open_breaker(subject, kit, kit.clock(100.0), threshold=3)
    breaker.reset()
    assert breaker.state == subject.State.CLOSED
    assert breaker.failure_count == 0
    func = kit.returns("through")
    assert breaker.call(func) == "through"
    assert func.call_count() == 1


def test_reset_clears_failure_count_while_closed(subject, kit):
    """Calling reset() sets the failure count to 0, so a full failure_threshold is needed to
    open."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=3, expected_exception=boom, clock=kit.clock()
    )
    fail_times(kit, breaker, boom, 2)
    breaker.reset()
    assert breaker.failure_count == 0
    fail_times(kit, breaker, boom, 2)
    assert breaker.state == subject.State.CLOSED


def test_reset_from_half_open_closes(subject, kit):
    """Calling reset() in HALF_OPEN makes the breaker CLOSED with a failure count of 0."""
    clock = kit.clock(100.0)
    breaker, boom = open_breaker(subject, kit, clock, threshold=2, recovery=10.0, trials=2)
    clock.set(110.5)
    breaker.call(kit.returns("ok"))
    breaker.reset()
    assert breaker.state == subject.State.CLOSED
    assert breaker.failure_count == 0
    fail_times(kit, breaker, boom, 1)
    assert breaker.state == subject.State.CLOSED
