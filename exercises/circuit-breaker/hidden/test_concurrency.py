"""Hidden tests: concurrent callers. Trial calls block inside func on a gate, so what the breaker
does with the other callers meanwhile is deterministic."""

import time

import pytest

CANARY = "GRADER-CANARY-circuit-breaker-497886f4abaf56de"

pytestmark = pytest.mark.category("concurrency")

#: Generous bound for threads to reach a gate or finish: only a broken breaker ever waits it out.
PATIENCE = 3.0


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


def half_open_breaker(subject, kit, trials, fallback=None, clock=None):
    """A breaker (expected exception Boom, threshold 2, recovery timeout 10) opened at 100.0
    on ``clock`` and HALF_OPEN at 110.5; returns (breaker, Boom)."""
    clock = clock or kit.clock(100.0)
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=2,
        recovery_timeout=10.0,
        half_open_max_calls=trials,
        expected_exception=boom,
        fallback=fallback,
        clock=clock,
    )
    trip(subject, kit, breaker, boom, 2)
    clock.set(110.5)
    assert breaker.state == subject.State.HALF_OPEN
    return breaker, boom


def settle(group, gate, blocked):
    """Join ``group`` until only ``blocked`` threads are still running (those held at ``gate``),
    or more than ``blocked`` are held at the gate, or PATIENCE runs out; return the outcomes."""
    deadline = time.monotonic() + PATIENCE
    while True:
        outcomes = group.join(timeout=0.02)
        running = sum(outcome == ["timeout"] for outcome in outcomes)
        if running <= blocked or gate.waiting() > blocked or time.monotonic() > deadline:
            return outcomes


def test_half_open_admits_at_most_max_concurrent_trials(subject, kit):
    """While half_open_max_calls trials are running, every further call is rejected at once."""
    breaker, _ = half_open_breaker(subject, kit, trials=2)
    gate = kit.gate()
    func = kit.script([("return", "ok")], gate=gate)
    group = kit.threads([(breaker.call, (func,))] * 8)
    try:
        assert gate.wait_for_waiters(2, timeout=PATIENCE)
        outcomes = settle(group, gate, blocked=2)
        assert gate.waiting() == 2
        finished = [o[:2] for o in outcomes if o != ["timeout"]]
        assert finished == [["raise", "CircuitOpenError"]] * 6
    finally:
        gate.open()
    outcomes = group.join(timeout=PATIENCE)
    assert (
        sorted(o[:2] for o in outcomes)
        == [["raise", "CircuitOpenError"]] * 6 + [["return", "ok"]] * 2
    )
    assert func.call_count() == 2
    assert breaker.state == subject.State.CLOSED
    assert breaker.failure_count == 0


def test_half_open_rejections_use_fallback(subject, kit):
    """A call rejected in HALF_OPEN because the trial limit is reached returns the fallback."""
    fallback = kit.returns("fallback")
    breaker, _ = half_open_breaker(subject, kit, trials=1, fallback=fallback)
    gate = kit.gate()
    func = kit.script([("return", "trial")], gate=gate)
    group = kit.threads([(breaker.call, (func, i), {"tag": i}) for i in range(4)])
    try:
        assert gate.wait_for_waiters(1, timeout=PATIENCE)
        outcomes = settle(group, gate, blocked=1)
        assert [o for o in outcomes if o != ["timeout"]] == [["return", "fallback"]] * 3
    finally:
        gate.open()
    outcomes = group.join(timeout=PATIENCE)
    assert sorted(o[1] for o in outcomes) == ["fallback", "fallback", "fallback", "trial"]
    trial_args = func.calls()[0]
    expected_fallback_calls = [
        [[i], {"tag": i}] for i in range(4) if [[i], {"tag": i}] != trial_args
    ]
    assert sorted(fallback.calls(), key=lambda c: c[0]) == expected_fallback_calls
    assert breaker.state == subject.State.CLOSED


def test_closed_calls_overlap_and_late_failures_change_nothing(subject, kit):
    """Calls run concurrently while CLOSED, and failures that finish after the breaker opened
    change neither the state nor the failure count."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=5, expected_exception=boom, clock=kit.clock(100.0)
    )
    gate = kit.gate()
    func = kit.script([("raise", boom, "down")], gate=gate)
    group = kit.threads([(breaker.call, (func,))] * 8)
    try:
        assert gate.wait_for_waiters(8, timeout=PATIENCE)
    finally:
        gate.open()
    outcomes = group.join(timeout=PATIENCE)
    assert [o[:2] for o in outcomes] == [["raise", "Boom"]] * 8
    assert breaker.state == subject.State.OPEN
    assert breaker.failure_count == 5


def test_concurrent_failures_are_all_counted(subject, kit):
    """Failures from many threads at once are all counted: no count is lost."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=100_000, expected_exception=boom, clock=kit.clock()
    )
    failing = kit.script([("raise", boom, "down")])
    batch = [[failing]] * 100
    group = kit.threads([(kit.outcomes, (breaker.call, batch))] * 8, switch_interval=1e-5)
    outcomes = group.join(timeout=PATIENCE)
    assert [o[0] for o in outcomes] == ["return"] * 8
    assert breaker.failure_count == 800
    assert breaker.state == subject.State.CLOSED


def test_concurrent_trials_all_succeeding_close_once(subject, kit):
    """When all concurrent trials succeed the breaker is CLOSED with a failure count of 0."""
    breaker, _ = half_open_breaker(subject, kit, trials=3)
    gate = kit.gate()
    func = kit.script([("return", "ok")], gate=gate)
    group = kit.threads([(breaker.call, (func,))] * 3)
    try:
        assert gate.wait_for_waiters(3, timeout=PATIENCE)
        assert breaker.state == subject.State.HALF_OPEN
    finally:
        gate.open()
    outcomes = group.join(timeout=PATIENCE)
    assert outcomes == [["return", "ok"]] * 3
    assert breaker.state == subject.State.CLOSED
    assert breaker.failure_count == 0


def test_failure_finishing_after_an_overlapping_success_still_counts(subject, kit):
    """While CLOSED, a failure that finishes after an overlapping call succeeded still counts:
    a success while CLOSED does not end the period its neighbours were admitted in."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=3, expected_exception=boom, clock=kit.clock(100.0)
    )
    gate = kit.gate()
    slow = kit.script([("raise", boom, "down")], gate=gate)
    group = kit.threads([(breaker.call, (slow,))])
    try:
        assert gate.wait_for_waiters(1, timeout=PATIENCE)
        assert breaker.call(kit.returns("fast")) == "fast"
    finally:
        gate.open()
    assert [o[:2] for o in group.join(timeout=PATIENCE)] == [["raise", "Boom"]]
    assert breaker.failure_count == 1
    assert breaker.state == subject.State.CLOSED


def test_late_success_of_a_closed_call_changes_nothing(subject, kit):
    """A success that finishes after the breaker opened is returned to its caller but resets
    no count: the breaker stays OPEN with its failure count."""
    boom = kit.exception("Boom")
    breaker = subject.CircuitBreaker(
        failure_threshold=2, expected_exception=boom, clock=kit.clock(100.0)
    )
    gate = kit.gate()
    slow = kit.script([("return", "late")], gate=gate)
    group = kit.threads([(breaker.call, (slow,))])
    try:
        assert gate.wait_for_waiters(1, timeout=PATIENCE)
        trip(subject, kit, breaker, boom, 2)
        opened_with = breaker.failure_count
    finally:
        gate.open()
    assert group.join(timeout=PATIENCE) == [["return", "late"]]
    assert breaker.state == subject.State.OPEN
    assert breaker.failure_count == opened_with


def test_late_trial_success_does_not_count_in_a_new_half_open_period(subject, kit):
    """A trial success that finishes after its half-open period ended does not count towards
    closing the breaker in a later half-open period."""
    clock = kit.clock(100.0)
    breaker, boom = half_open_breaker(subject, kit, trials=2, clock=clock)
    gate = kit.gate()
    slow = kit.script([("return", "late")], gate=gate)
    group = kit.threads([(breaker.call, (slow,))])
    try:
        assert gate.wait_for_waiters(1, timeout=PATIENCE)
        with pytest.raises(boom):
            breaker.call(kit.raises(boom, "down again"))
        assert breaker.state == subject.State.OPEN
        clock.set(121.0)
        assert breaker.state == subject.State.HALF_OPEN
    finally:
        gate.open()
    assert group.join(timeout=PATIENCE) == [["return", "late"]]
    assert breaker.call(kit.returns("ok")) == "ok"
    assert breaker.state == subject.State.HALF_OPEN
    assert breaker.call(kit.returns("ok")) == "ok"
    assert breaker.state == subject.State.CLOSED


def test_late_trial_failure_after_reset_changes_nothing(subject, kit):
    """A trial that fails after reset() ended its half-open period is re-raised to its caller
    but leaves the breaker CLOSED with a failure count of 0."""
    breaker, boom = half_open_breaker(subject, kit, trials=1)
    gate = kit.gate()
    slow = kit.script([("raise", boom, "late")], gate=gate)
    group = kit.threads([(breaker.call, (slow,))])
    try:
        assert gate.wait_for_waiters(1, timeout=PATIENCE)
        breaker.reset()
    finally:
        gate.open()
    assert [o[:2] for o in group.join(timeout=PATIENCE)] == [["raise", "Boom"]]
    assert breaker.state == subject.State.CLOSED
    assert breaker.failure_count == 0


def test_late_unexpected_exceptions_free_no_trial_slot(subject, kit):
    """Unexpected exceptions from trials of an ended half-open period free no trial slot of a
    later period: while its own trials run, further calls are still rejected."""
    clock = kit.clock(100.0)
    breaker, boom = half_open_breaker(subject, kit, trials=2, clock=clock)
    old_gate, new_gate = kit.gate(), kit.gate()
    old_trial = kit.script([("raise", "ValueError", "late")], gate=old_gate)
    new_trial = kit.script([("return", "ok")], gate=new_gate)
    old_group = kit.threads([(breaker.call, (old_trial,))] * 2)
    new_group = None
    try:
        assert old_gate.wait_for_waiters(2, timeout=PATIENCE)
        breaker.reset()
        trip(subject, kit, breaker, boom, 2)
        clock.set(121.0)
        new_group = kit.threads([(breaker.call, (new_trial,))] * 2)
        assert new_gate.wait_for_waiters(2, timeout=PATIENCE)
        old_gate.open()
        late = old_group.join(timeout=PATIENCE)
        assert [o[:2] for o in late] == [["raise", "ValueError"]] * 2
        extra = kit.returns("extra")
        with pytest.raises(subject.CircuitOpenError):
            breaker.call(extra)
        assert extra.call_count() == 0
    finally:
        old_gate.open()
        new_gate.open()
    assert new_group is not None
    assert new_group.join(timeout=PATIENCE) == [["return", "ok"]] * 2
    assert breaker.state == subject.State.CLOSED


def test_unexpected_exception_frees_only_its_own_slot(subject, kit):
    """A trial that raises an unexpected exception frees exactly its own slot: with one trial
    allowed, while the next trial runs every further call is rejected."""
    breaker, _ = half_open_breaker(subject, kit, trials=1)
    with pytest.raises(ValueError):
        breaker.call(kit.raises("ValueError", "unrelated"))
    gate = kit.gate()
    trial = kit.script([("return", "ok")], gate=gate)
    group = kit.threads([(breaker.call, (trial,))])
    try:
        assert gate.wait_for_waiters(1, timeout=PATIENCE)
        extra = kit.returns("extra")
        with pytest.raises(subject.CircuitOpenError):
            breaker.call(extra)
        assert extra.call_count() == 0
    finally:
        gate.open()
    assert group.join(timeout=PATIENCE) == [["return", "ok"]]
    assert breaker.state == subject.State.CLOSED
