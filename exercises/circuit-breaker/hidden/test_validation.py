"""Hidden tests: constructor argument validation."""

import pytest

CANARY = "GRADER-CANARY-circuit-breaker-497886f4abaf56de"

pytestmark = pytest.mark.category("validation")


@pytest.mark.parametrize("threshold", [0, -1])
def test_failure_threshold_below_one_rejected(subject, kit, threshold):
    """failure_threshold must be at least 1, else ValueError."""
    with pytest.raises(ValueError):
        subject.CircuitBreaker(failure_threshold=threshold, clock=kit.clock())


@pytest.mark.parametrize("timeout", [0, 0.0, -1.5])
def test_recovery_timeout_not_positive_rejected(subject, kit, timeout):
    """recovery_timeout must be greater than 0, else ValueError."""
    with pytest.raises(ValueError):
        subject.CircuitBreaker(recovery_timeout=timeout, clock=kit.clock())


@pytest.mark.parametrize("trials", [0, -3])
def test_half_open_max_calls_below_one_rejected(subject, kit, trials):
    """half_open_max_calls must be at least 1, else ValueError."""
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
    """failure_threshold=1, a small positive recovery_timeout and half_open_max_calls=1 work."""
    clock = kit.clock()
    breaker = subject.CircuitBreaker(failure_threshold=1, recovery_timeout=0.25,
                                     half_open_max_calls=1, clock=clock)
    with pytest.raises(RuntimeError):
        breaker.call(kit.raises("RuntimeError", "down"))
    assert breaker.state == subject.State.OPEN
    clock.set(0.25)
    assert breaker.state == subject.State.HALF_OPEN
    assert breaker.call(kit.returns(1)) == 1
    assert breaker.state == subject.State.CLOSED
