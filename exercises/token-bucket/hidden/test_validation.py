"""Hidden tests: invalid constructor and method arguments."""

import pytest

CANARY = "GRADER-CANARY-token-bucket-5311ec90dcd26b4d"

pytestmark = pytest.mark.category("validation")

TOL = 1e-6
JOIN_TIMEOUT = 2.0


def acquire_outcome(kit, bucket, *args, **kwargs):
    """Run bucket.acquire in a kit thread, so that a call that never returns fails fast."""
    (outcome,) = kit.threads([(bucket.acquire, list(args), kwargs)]).join(timeout=JOIN_TIMEOUT)
    return outcome


def make_bucket(subject, kit, capacity, rate):
    """A bucket on a fake clock with a fake sleep."""
    clock = kit.clock()
    return subject.TokenBucket(capacity, rate, clock=clock, sleep=kit.sleeper(clock))


def test_capacity_must_be_positive(subject, kit):
    """A capacity that is not greater than 0 raises ValueError."""
    for capacity in (0, -1, -0.5):
        with pytest.raises(ValueError):
            subject.TokenBucket(capacity, 1, clock=kit.clock())


def test_refill_rate_must_not_be_negative(subject, kit):
    """A negative refill_rate raises ValueError."""
    with pytest.raises(ValueError):
        subject.TokenBucket(5, -0.5, clock=kit.clock())


def test_zero_refill_rate_and_fractional_capacity_are_accepted(subject, kit):
    """A refill_rate of 0 and a small fractional capacity are valid."""
    bucket = subject.TokenBucket(0.25, 0, clock=kit.clock())
    assert bucket.tokens == pytest.approx(0.25, abs=TOL)


def test_constructor_rejects_non_numbers(subject, kit):
    """A capacity or refill_rate that is not a number raises ValueError or TypeError."""
    for capacity, rate in (("10", 1), (None, 1), (10, "1"), (10, None)):
        with pytest.raises((ValueError, TypeError)):
            subject.TokenBucket(capacity, rate, clock=kit.clock())


def test_try_acquire_rejects_non_positive_amounts(subject, kit):
    """A try_acquire call with n <= 0 raises ValueError."""
    bucket = make_bucket(subject, kit, 4, 1)
    for n in (0, -1, -0.5):
        with pytest.raises(ValueError):
            bucket.try_acquire(n)


def test_try_acquire_rejects_more_than_capacity(subject, kit):
    """A try_acquire call with n greater than the capacity raises ValueError."""
    bucket = make_bucket(subject, kit, 3, 1)
    with pytest.raises(ValueError):
        bucket.try_acquire(3.5)
    with pytest.raises(ValueError):
        bucket.try_acquire(100)


def test_time_until_rejects_invalid_amounts(subject, kit):
    """A time_until call with n <= 0 or n above the capacity raises ValueError."""
    bucket = make_bucket(subject, kit, 3, 1)
    for n in (0, -1, 3.5, 4):
        with pytest.raises(ValueError):
            bucket.time_until(n)


def test_amounts_above_capacity_are_rejected_even_without_refill(subject, kit):
    """With refill_rate 0, time_until and acquire still raise ValueError for n above the
    capacity, rather than answering that the tokens never come."""
    bucket = make_bucket(subject, kit, 3, 0)
    for n in (3.5, 4):
        with pytest.raises(ValueError):
            bucket.time_until(n)
    assert acquire_outcome(kit, bucket, 4)[:2] == ["raise", "ValueError"]
    assert acquire_outcome(kit, bucket, 3.5, timeout=10)[:2] == ["raise", "ValueError"]


def test_acquire_rejects_non_positive_amounts(subject, kit):
    """An acquire call with n <= 0 raises ValueError."""
    bucket = make_bucket(subject, kit, 4, 1)
    for n in (0, -2):
        outcome = acquire_outcome(kit, bucket, n)
        assert outcome[:2] == ["raise", "ValueError"]


def test_acquire_rejects_more_than_capacity(subject, kit):
    """An acquire call with n greater than the capacity raises ValueError instead of waiting."""
    bucket = make_bucket(subject, kit, 3, 1)
    assert acquire_outcome(kit, bucket, 4)[:2] == ["raise", "ValueError"]
    assert acquire_outcome(kit, bucket, 3.5, timeout=10)[:2] == ["raise", "ValueError"]


def test_acquire_rejects_negative_timeout(subject, kit):
    """An acquire call with a negative timeout raises ValueError, even when tokens are
    available."""
    bucket = make_bucket(subject, kit, 4, 1)
    assert acquire_outcome(kit, bucket, 1, timeout=-0.5)[:2] == ["raise", "ValueError"]


def test_methods_reject_non_numbers(subject, kit):
    """An amount or timeout that is not a number raises ValueError or TypeError."""
    bucket = make_bucket(subject, kit, 4, 1)
    for method in (bucket.try_acquire, bucket.time_until):
        with pytest.raises((ValueError, TypeError)):
            method("1")
        with pytest.raises((ValueError, TypeError)):
            method(None)
    for args, kwargs in ((["1"], {}), ([None], {}), ([1], {"timeout": "1"})):
        outcome = acquire_outcome(kit, bucket, *args, **kwargs)
        assert outcome[:2] in (["raise", "ValueError"], ["raise", "TypeError"])


def test_rejected_calls_take_nothing(subject, kit):
    """A call that raises ValueError takes no tokens."""
    bucket = make_bucket(subject, kit, 4, 1)
    with pytest.raises(ValueError):
        bucket.try_acquire(5)
    with pytest.raises(ValueError):
        bucket.time_until(-1)
    assert acquire_outcome(kit, bucket, 2, timeout=-1)[:2] == ["raise", "ValueError"]
    assert acquire_outcome(kit, bucket, 5)[:2] == ["raise", "ValueError"]
    assert bucket.tokens == pytest.approx(4.0, abs=TOL)


def test_nan_is_rejected(subject, kit):
    """A NaN capacity, refill_rate, amount or timeout raises ValueError and changes nothing."""
    nan = float("nan")
    for capacity, rate in ((nan, 1), (4, nan)):
        with pytest.raises(ValueError):
            subject.TokenBucket(capacity, rate, clock=kit.clock())
    bucket = make_bucket(subject, kit, 4, 1)
    for method in (bucket.try_acquire, bucket.time_until):
        with pytest.raises(ValueError):
            method(nan)
    assert acquire_outcome(kit, bucket, nan)[:2] == ["raise", "ValueError"]
    assert acquire_outcome(kit, bucket, 1, timeout=nan)[:2] == ["raise", "ValueError"]
    assert bucket.tokens == pytest.approx(4.0, abs=TOL)
