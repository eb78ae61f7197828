"""Hidden tests: every operation is atomic with respect to the others.

One thread is stopped before each line of a call in turn (``kit.interleavings``) while another
thread uses the same breaker; wherever the first one stops, the outcomes and the breaker's
final state must be those of the two operations made one after the other, in some order (a
call's outcome counting when it finishes, as the statement says of overlapping calls).
"""

import pytest

CANARY = "GRADER-CANARY-circuit-breaker-497886f4abaf56de"

pytestmark = pytest.mark.category("concurrency")

#: Generous bound for a thread to reach a gate: only a broken breaker ever waits it out.
PATIENCE = 3.0


def closed_breaker(subject, kit, boom):
    """A CLOSED breaker (expected exception ``boom``, threshold 1, recovery timeout 30) on a
    clock at 100.0."""
    return subject.CircuitBreaker(
        failure_threshold=1, recovery_timeout=30.0, expected_exception=boom, clock=kit.clock(100.0)
    )


def half_open_breaker(subject, kit, boom, threshold, sleeps=None):
    """A breaker (``boom`` expected, one trial allowed, recovery timeout 10) opened at 100.0
    and HALF_OPEN at 110.5. With a dict ``sleeps``, a fake sleep of its clock is kept there
    under the breaker."""
    clock = kit.clock(100.0)
    breaker = subject.CircuitBreaker(
        failure_threshold=threshold,
        recovery_timeout=10.0,
        half_open_max_calls=1,
        expected_exception=boom,
        clock=clock,
    )
    failing = kit.script([("raise", boom, "down")])
    outcomes = kit.outcomes(breaker.call, [[failing]] * threshold)
    assert [o[:2] for o in outcomes] == [["raise", "Boom"]] * threshold
    clock.set(110.5)
    assert breaker.state == subject.State.HALF_OPEN
    if sleeps is not None:
        sleeps[breaker] = kit.sleeper(clock)
    return breaker


def where(point):
    """How a failure names the interleaving it happened at."""
    return f"first call stopped before line {point.point} of its code"


def failing_call(kit, boom):
    """The first or second call of a test: ``breaker -> (breaker.call, [f])``, ``f`` raising
    ``boom``."""
    return lambda breaker: (breaker.call, [kit.script([("raise", boom, "down")])])


def test_state_is_never_read_halfway_through_opening(subject, kit):
    """Reading state while another thread's failure opens the breaker gives CLOSED or OPEN,
    never a state that the opening only passes through; the breaker ends up OPEN."""
    boom = kit.exception("Boom")
    points = kit.interleavings(
        lambda: closed_breaker(subject, kit, boom),
        failing_call(kit, boom),
        lambda breaker: (kit.read, (breaker, "state")),
    )
    for point in points:
        assert point.first[:2] == ["raise", "Boom"], where(point)
        assert point.second[0] == "return", f"{where(point)}: state gave {point.second}"
        assert point.second[1] in (subject.State.CLOSED, subject.State.OPEN), (
            f"{where(point)}: state read {point.second[1]!r} while the breaker opened"
        )
        assert point.target.state == subject.State.OPEN, where(point)
        assert point.target.failure_count == 1, where(point)


def test_half_open_admission_is_atomic(subject, kit):
    """Two calls racing for the one trial of a half-open period: either one is the trial and
    the other is rejected, or the trial succeeds and closes the breaker before the other call
    is admitted, never both admitted as trials."""
    boom = kit.exception("Boom")
    closed, opened = subject.State.CLOSED, subject.State.OPEN
    serial = [
        # The failing call was the trial: the breaker reopened, the other was rejected.
        (["raise", "Boom"], ["raise", "CircuitOpenError"], opened, 2),
        # The other call's trial closed the breaker, then the failing call counted once.
        (["raise", "Boom"], ["return", "ok"], closed, 1),
        # The other call was the trial, and the failing call came while it ran.
        (["raise", "CircuitOpenError"], ["return", "ok"], closed, 0),
    ]
    points = kit.interleavings(
        lambda: half_open_breaker(subject, kit, boom, threshold=2),
        failing_call(kit, boom),
        lambda breaker: (breaker.call, [kit.returns("ok")]),
    )
    for point in points:
        seen = (
            point.first[:2],
            point.second[:2],
            point.target.state,
            point.target.failure_count,
        )
        assert seen in serial, f"{where(point)}: outcomes and final state {seen}"


def test_trial_failure_interleaved_with_reset_never_reopens(subject, kit):
    """A failing trial that finishes after another thread's reset() does not reopen the
    breaker, wherever the two interleave."""
    boom = kit.exception("Boom")
    points = kit.interleavings(
        lambda: half_open_breaker(subject, kit, boom, threshold=2),
        failing_call(kit, boom),
        lambda breaker: (breaker.reset, []),
    )
    for point in points:
        assert point.first[:2] == ["raise", "Boom"], where(point)
        assert point.second == ["return", None], where(point)
        state, count = point.target.state, point.target.failure_count
        # Counted (once) only if the failing call was admitted after the reset, while CLOSED.
        assert state == subject.State.CLOSED, f"{where(point)}: {state!r} after the reset"
        assert count in (0, 1), f"{where(point)}: failure count {count}"


def test_late_trial_success_after_reset_and_reopening_changes_nothing(subject, kit):
    """A successful trial that finishes after another thread reset the breaker and a new
    failure reopened it does not close it, wherever the two interleave."""
    boom = kit.exception("Boom")
    fail = failing_call(kit, boom)

    def reset_and_fail(breaker):
        calls = [(breaker.reset, []), fail(breaker)]
        return (kit.run_calls, (calls,))

    points = kit.interleavings(
        lambda: half_open_breaker(subject, kit, boom, threshold=1),
        lambda breaker: (breaker.call, [kit.returns("ok")]),
        reset_and_fail,
    )
    for point in points:
        assert point.first[:2] in (["return", "ok"], ["raise", "CircuitOpenError"]), where(point)
        assert point.second[0] == "return", f"{where(point)}: {point.second}"
        reset, failed = point.second[1]
        assert reset == ["return", None], where(point)
        assert failed[:2] == ["raise", "Boom"], where(point)
        state = point.target.state
        assert state == subject.State.OPEN, f"{where(point)}: {state!r} after the new failure"
        assert point.target.failure_count == 1, where(point)


def test_late_unexpected_exception_frees_no_slot_of_a_later_period(subject, kit):
    """A trial's unexpected exception that finishes after another thread reset, reopened and
    waited out the breaker frees no slot of the new half-open period: while its one trial
    runs, a further call is rejected."""
    boom = kit.exception("Boom")
    sleeps = {}
    fail = failing_call(kit, boom)

    def reopen_and_wait(breaker):
        calls = [
            (breaker.reset, []),
            fail(breaker),
            (sleeps[breaker], [10.0]),
            (kit.read, [breaker, "state"]),
        ]
        return (kit.run_calls, (calls,))

    points = kit.interleavings(
        lambda: half_open_breaker(subject, kit, boom, threshold=1, sleeps=sleeps),
        lambda breaker: (breaker.call, [kit.raises("ValueError", "unrelated")]),
        reopen_and_wait,
    )
    allowed = (["raise", "ValueError"], ["raise", "CircuitOpenError"])
    for point in points:
        assert point.first[:2] in allowed, where(point)
        assert point.second[0] == "return", f"{where(point)}: {point.second}"
        reset, failed, slept, state = point.second[1]
        assert [reset, slept] == [["return", None]] * 2, where(point)
        assert failed[:2] == ["raise", "Boom"], where(point)
        assert state == ["return", subject.State.HALF_OPEN], where(point)
        assert_one_trial_at_a_time(subject, kit, point)


def assert_one_trial_at_a_time(subject, kit, point):
    """While one trial of ``point.target`` runs (held at a gate), a further call is rejected."""
    gate = kit.gate()
    trial = kit.script([("return", "trial")], gate=gate)
    group = kit.threads([(point.target.call, [trial])])
    try:
        assert gate.wait_for_waiters(1, timeout=PATIENCE), where(point)
        rejected = kit.outcomes(point.target.call, [[kit.returns("extra")]])
        assert rejected[0][:2] == ["raise", "CircuitOpenError"], (
            f"{where(point)}: a second trial was admitted while the first ran"
        )
    finally:
        gate.open()
    assert group.join(timeout=PATIENCE) == [["return", "trial"]], where(point)
