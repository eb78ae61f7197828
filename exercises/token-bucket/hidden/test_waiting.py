"""Hidden tests: time_until, and acquire with and without a timeout."""

import math

import pytest

CANARY = "GRADER-CANARY-token-bucket-5311ec90dcd26b4d"

pytestmark = pytest.mark.category("waiting")

TOL = 1e-6
JOIN_TIMEOUT = 2.0


def acquire_outcome(kit, bucket, *args, **kwargs):
    """Run bucket.acquire in a kit thread, so that a call that never returns fails fast."""
    (outcome,) = kit.threads([(bucket.acquire, list(args), kwargs)]).join(timeout=JOIN_TIMEOUT)
    return outcome


def make_bucket(subject, kit, capacity, rate, start=0.0):
    """A bucket on a fake clock with a fake sleep; returns (bucket, clock, sleep)."""
    clock = kit.clock(start)
    sleep = kit.sleeper(clock)
    bucket = subject.TokenBucket(capacity, rate, clock=clock, sleep=sleep)
    return bucket, clock, sleep


# -- time_until ---------------------------------------------------------------------------


def test_time_until_is_zero_when_tokens_are_available(subject, kit):
    """time_until is 0.0 when the tokens are available now."""
    bucket, _, _ = make_bucket(subject, kit, 4, 2)
    assert bucket.time_until(4) == pytest.approx(0.0, abs=TOL)
    assert bucket.try_acquire(1.5) is True
    assert bucket.time_until() == pytest.approx(0.0, abs=TOL)
    assert bucket.time_until(2.5) == pytest.approx(0.0, abs=TOL)


def test_time_until_is_the_shortfall_over_the_rate(subject, kit):
    """time_until is the time needed to refill the missing tokens."""
    bucket, _, _ = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(4) is True
    assert bucket.time_until() == pytest.approx(0.5, abs=TOL)
    assert bucket.time_until(3) == pytest.approx(1.5, abs=TOL)


def test_time_until_counts_tokens_already_held(subject, kit):
    """time_until counts only the tokens still missing, after a partial refill."""
    bucket, clock, _ = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(4) is True
    clock.advance(0.25)
    assert bucket.time_until(2) == pytest.approx(0.75, abs=TOL)
    assert bucket.time_until(0.5) == pytest.approx(0.0, abs=TOL)


def test_time_until_is_infinite_when_never_refilled(subject, kit):
    """With refill_rate 0, time_until is math.inf when too few tokens are held."""
    bucket, _, _ = make_bucket(subject, kit, 4, 0)
    assert bucket.try_acquire(3) is True
    assert bucket.time_until(2) == math.inf
    assert bucket.time_until(1) == pytest.approx(0.0, abs=TOL)


def test_time_until_takes_nothing_and_is_accurate(subject, kit):
    """time_until takes nothing, and after that many seconds the tokens are there."""
    bucket, clock, _ = make_bucket(subject, kit, 8, 4)
    assert bucket.try_acquire(7.5) is True
    wait = bucket.time_until(3)
    assert bucket.tokens == pytest.approx(0.5, abs=TOL)
    clock.advance(wait)
    assert bucket.try_acquire(3) is True


# -- acquire without a timeout --------------------------------------------------------------


def test_acquire_takes_available_tokens_without_waiting(subject, kit):
    """acquire takes available tokens at once and returns True without waiting."""
    bucket, clock, sleep = make_bucket(subject, kit, 4, 2)
    assert acquire_outcome(kit, bucket, 3) == ["return", True]
    assert sleep.total() == pytest.approx(0.0, abs=TOL)
    assert bucket.tokens == pytest.approx(1.0, abs=TOL)
    assert clock.now() == pytest.approx(0.0, abs=TOL)


def test_acquire_waits_through_the_injected_sleep(subject, kit):
    """acquire waits for missing tokens only through the injected sleep, then takes them."""
    bucket, clock, sleep = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(3.5) is True
    assert acquire_outcome(kit, bucket, 2) == ["return", True]
    assert sleep.total() == pytest.approx(0.75, abs=TOL)
    assert clock.now() == pytest.approx(0.75, abs=TOL)
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


def test_acquire_takes_one_token_by_default(subject, kit):
    """acquire() with no argument waits for and takes one token."""
    bucket, clock, _ = make_bucket(subject, kit, 2, 4)
    assert bucket.try_acquire(2) is True
    assert acquire_outcome(kit, bucket) == ["return", True]
    assert clock.now() == pytest.approx(0.25, abs=TOL)
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


def test_consecutive_acquires_are_spaced_by_the_refill(subject, kit):
    """Back-to-back acquires on an empty bucket each wait just for their own tokens."""
    bucket, clock, _ = make_bucket(subject, kit, 2, 8)
    assert bucket.try_acquire(2) is True
    times = []
    for _ in range(3):
        assert acquire_outcome(kit, bucket, 1) == ["return", True]
        times.append(clock.now())
    assert times == pytest.approx([0.125, 0.25, 0.375], abs=TOL)


def test_acquire_waits_as_long_as_needed_without_timeout(subject, kit):
    """Without a timeout, acquire waits however long the refill takes."""
    bucket, _, sleep = make_bucket(subject, kit, 4, 0.25)
    assert bucket.try_acquire(4) is True
    assert acquire_outcome(kit, bucket, 3) == ["return", True]
    assert sleep.total() == pytest.approx(12.0, abs=TOL)
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


# -- acquire with a timeout -----------------------------------------------------------------


def test_acquire_with_enough_timeout_succeeds(subject, kit):
    """acquire returns True when the tokens come within the timeout, waiting only as needed."""
    bucket, _, sleep = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(4) is True
    assert acquire_outcome(kit, bucket, 1, timeout=0.625) == ["return", True]
    assert sleep.total() == pytest.approx(0.5, abs=TOL)
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


def test_acquire_with_short_timeout_fails_and_takes_nothing(subject, kit):
    """acquire returns False and takes nothing when the tokens cannot come within the timeout."""
    bucket, clock, sleep = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(4) is True
    assert acquire_outcome(kit, bucket, 3, timeout=1.0) == ["return", False]
    assert sleep.total() <= 1.0 + TOL
    # Nothing was taken: the bucket holds exactly what has refilled meanwhile.
    assert bucket.tokens == pytest.approx(2 * clock.now(), abs=TOL)


def test_failed_timed_acquire_does_not_hold_tokens_back(subject, kit):
    """After a timed acquire gave up, the refilled tokens are there for later callers."""
    bucket, clock, _ = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(4) is True
    assert acquire_outcome(kit, bucket, 4, timeout=0.5) == ["return", False]
    clock.set(1.0)
    assert bucket.try_acquire(2) is True
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


def test_acquire_with_zero_timeout_does_not_wait(subject, kit):
    """acquire with timeout 0 takes available tokens, else returns False at once."""
    bucket, clock, sleep = make_bucket(subject, kit, 4, 2)
    assert acquire_outcome(kit, bucket, 3, timeout=0) == ["return", True]
    assert acquire_outcome(kit, bucket, 2, timeout=0) == ["return", False]
    assert sleep.total() == pytest.approx(0.0, abs=TOL)
    assert clock.now() == pytest.approx(0.0, abs=TOL)
    assert bucket.tokens == pytest.approx(1.0, abs=TOL)


def test_acquire_with_timeout_on_a_bucket_that_never_refills(subject, kit):
    """With refill_rate 0 and too few tokens, acquire with a timeout returns False."""
    bucket, _, sleep = make_bucket(subject, kit, 4, 0)
    assert bucket.try_acquire(3) is True
    assert acquire_outcome(kit, bucket, 2, timeout=5) == ["return", False]
    assert sleep.total() <= 5.0 + TOL
    assert bucket.tokens == pytest.approx(1.0, abs=TOL)
    assert acquire_outcome(kit, bucket, 1, timeout=5) == ["return", True]
