"""Hidden tests: constructor argument validation."""

import pytest

CANARY = "GRADER-CANARY-circuit-breaker-497886f4abaf56de"

pytestmark = pytest.mark.category("validation")


@pytest.mark.parametrize("threshold", [0, -1])
def test_failure_threshold_below_one_rejected(subject, kit, threshold):
    """A failure_threshold below 1 raises ValueError."""
    with pytest.raises(ValueError):
        subject.CircuitBreaker(failure_threshold=threshold, clock=kit.clock())


@pytest.mark.parametrize("timeout", [0, 0.0, -1.5])
def test_recovery_timeout_not_positive_rejected(subject, kit, timeout):
    """A recovery_timeout that is not greater than 0 raises ValueError."""
    with pytest.raises(ValueError):
        subject.CircuitBreaker(recovery_timeout=timeout, clock=kit.clock())


@pytest.mark.parametrize("trials", [0, -3])
def test_half_open_max_calls_below_one_rejected(subject, kit, trials):
    """A half_open_max_calls below 1 raises ValueError."""
    with pytest.raises(ValueError):
        subject.CircuitBreaker(half_open_max_calls=trials, clock=kit.clock())


def test_wrong_argument_types_rejected(subject, kit):
    """A non-numeric threshold, timeout or trial limit raises ValueError or TypeError."""
    with pytest.raises((ValueError, TypeError)):
        subject.CircuitBreaker(failure_threshold="five", clock=kit.clock())
    with pytest.raises((ValueError, TypeError)):
        subject.CircuitBreaker(recovery_timeout="soon", clock=kit.clock())
    with pytest.raises((ValueError, TypeError)):
        subject.CircuitBreaker(half_open_max_calls=None, clock=kit.clock())


def test_smallest_valid_values_accepted(subject, kit):
    """The smallest valid values (failure_threshold=1, a small positive recovery_timeout,
    half_open_max_calls=1) are accepted and give a working breaker."""
    clock = kit.clock()
    breaker = subject.CircuitBreaker(
        failure_threshold=1, recovery_timeout=0.25, half_open_max_calls=1, clock=clock
    )
    assert breaker.state == subject.State.CLOSED
    assert breaker.call(kit.returns(0)) == 0
    failing = kit.raises("RuntimeError", "down")
    for _ in range(3):
        kit.outcomes(breaker.call, [[failing]])
        if breaker.state == subject.State.OPEN:
            break
    assert breaker.state == subject.State.OPEN
    clock.set(0.375)
    assert breaker.state == subject.State.HALF_OPEN
    assert breaker.call(kit.returns(1)) == 1
    assert breaker.state == subject.State.CLOSED


def test_expected_exception_must_be_exception_classes(subject, kit):
    """An expected_exception that is not an exception class or a tuple of exception classes
    raises TypeError or ValueError."""
    boom = kit.exception("Boom")
    for bad in ("Boom", (boom, "Other"), subject.State, (boom, subject.State)):
        with pytest.raises((TypeError, ValueError)):
            subject.CircuitBreaker(expected_exception=bad, clock=kit.clock())
    breaker = subject.CircuitBreaker(expected_exception=(boom,), clock=kit.clock())
    assert breaker.state == subject.State.CLOSED
