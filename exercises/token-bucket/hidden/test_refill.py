"""Hidden tests: continuous refill, the capacity cap, a rate of 0, clocks that go backwards.

Setups leave a little in the bucket rather than taking every last token, so that each test
checks refilling, not taking exactly what is held (the basics tests check that).
"""

import pytest

CANARY = "GRADER-CANARY-token-bucket-5311ec90dcd26b4d"

pytestmark = pytest.mark.category("refill")

TOL = 1e-6
JOIN_TIMEOUT = 2.0


def acquire_outcome(kit, bucket, *args, **kwargs):
    """Run bucket.acquire in a kit thread, so that a call that never returns fails fast."""
    (outcome,) = kit.threads([(bucket.acquire, list(args), kwargs)]).join(timeout=JOIN_TIMEOUT)
    return outcome


def test_tokens_refill_in_proportion_to_time(subject, kit):
    """Tokens come back continuously at refill_rate tokens per second."""
    clock = kit.clock()
    bucket = subject.TokenBucket(10, 2, clock=clock)
    assert bucket.try_acquire(9.5) is True
    clock.advance(1.25)
    assert bucket.tokens == pytest.approx(3.0, abs=TOL)
    clock.advance(0.5)
    assert bucket.tokens == pytest.approx(4.0, abs=TOL)


def test_refill_makes_try_acquire_succeed_once_enough(subject, kit):
    """A try_acquire call fails before enough tokens have refilled and succeeds once they have."""
    clock = kit.clock()
    bucket = subject.TokenBucket(2, 4, clock=clock)
    assert bucket.try_acquire(1.5) is True
    clock.advance(0.0625)
    assert bucket.try_acquire(1) is False
    clock.advance(0.125)
    assert bucket.try_acquire(1) is True
    assert bucket.tokens == pytest.approx(0.25, abs=TOL)


def test_refill_is_capped_at_capacity(subject, kit):
    """However long the wait, the bucket never holds more than its capacity."""
    clock = kit.clock()
    bucket = subject.TokenBucket(10, 1, clock=clock)
    assert bucket.try_acquire(3) is True
    clock.advance(100)
    assert bucket.tokens == pytest.approx(10.0, abs=TOL)


def test_idle_full_bucket_banks_nothing_extra(subject, kit):
    """Time spent full earns no tokens beyond the capacity, even for later takes."""
    clock = kit.clock()
    bucket = subject.TokenBucket(4, 1, clock=clock)
    clock.advance(10)
    assert bucket.try_acquire(3.5) is True
    assert bucket.try_acquire(1) is False
    assert bucket.tokens == pytest.approx(0.5, abs=TOL)


def test_refill_rate_zero_never_refills(subject, kit):
    """A bucket with refill_rate 0 never gets tokens back."""
    clock = kit.clock()
    bucket = subject.TokenBucket(3, 0, clock=clock)
    assert bucket.try_acquire(2) is True
    clock.advance(1000)
    assert bucket.tokens == pytest.approx(1.0, abs=TOL)
    assert bucket.try_acquire(2) is False


def test_each_stretch_of_time_is_counted_once(subject, kit):
    """Frequent reads do not count the same time twice: refill depends only on elapsed time."""
    clock = kit.clock()
    bucket = subject.TokenBucket(10, 1, clock=clock)
    assert bucket.try_acquire(9.5) is True
    readings = []
    for _ in range(4):
        clock.advance(0.5)
        readings.append(bucket.tokens)
        readings.append(bucket.tokens)
    assert readings == pytest.approx([1.0, 1.0, 1.5, 1.5, 2.0, 2.0, 2.5, 2.5], abs=TOL)


def test_refill_continues_from_the_last_take(subject, kit):
    """After a take, refilling continues from what is left at that moment."""
    clock = kit.clock()
    bucket = subject.TokenBucket(4, 2, clock=clock)
    assert bucket.try_acquire(3.5) is True
    clock.advance(0.5)
    assert bucket.try_acquire(1) is True
    clock.advance(0.25)
    assert bucket.tokens == pytest.approx(1.0, abs=TOL)
    clock.advance(2)
    assert bucket.tokens == pytest.approx(4.0, abs=TOL)


def test_clock_going_backwards_adds_and_removes_nothing(subject, kit):
    """When the clock goes backwards, the tokens stay as they are."""
    clock = kit.clock(10.0)
    bucket = subject.TokenBucket(10, 1, clock=clock)
    assert bucket.try_acquire(6) is True
    clock.set(7.0)
    assert bucket.tokens == pytest.approx(4.0, abs=TOL)
    clock.set(9.0)
    assert bucket.tokens == pytest.approx(4.0, abs=TOL)


def test_refill_resumes_only_after_the_latest_reading(subject, kit):
    """After the clock went back, only time past the latest reading already used refills."""
    clock = kit.clock(10.0)
    bucket = subject.TokenBucket(10, 1, clock=clock)
    assert bucket.try_acquire(6) is True
    clock.set(7.0)
    assert bucket.tokens == pytest.approx(4.0, abs=TOL)
    clock.set(12.0)
    assert bucket.tokens == pytest.approx(6.0, abs=TOL)


def test_tokens_can_be_taken_while_the_clock_is_behind(subject, kit):
    """Tokens held can still be taken while the clock is behind, and nothing is refunded."""
    clock = kit.clock(10.0)
    bucket = subject.TokenBucket(10, 1, clock=clock)
    assert bucket.try_acquire(6) is True
    clock.set(7.0)
    assert bucket.try_acquire(3) is True
    assert bucket.try_acquire(2) is False
    assert bucket.tokens == pytest.approx(1.0, abs=TOL)
    clock.set(11.0)
    assert bucket.tokens == pytest.approx(2.0, abs=TOL)


def test_time_until_counts_the_clock_catching_up(subject, kit):
    """While the clock is behind, time_until includes the time to get back to the latest reading."""
    clock = kit.clock(10.0)
    bucket = subject.TokenBucket(10, 1, clock=clock)
    assert bucket.try_acquire(6) is True
    clock.set(7.0)
    assert bucket.time_until(6) == pytest.approx(5.0, abs=TOL)
    assert bucket.time_until(4) == pytest.approx(0.0, abs=TOL)


def test_acquire_waits_for_the_clock_to_catch_up(subject, kit):
    """While the clock is behind, acquire waits until the tokens have really refilled."""
    clock = kit.clock(10.0)
    sleep = kit.sleeper(clock)
    bucket = subject.TokenBucket(10, 1, clock=clock, sleep=sleep)
    assert bucket.try_acquire(9.5) is True
    clock.set(9.5)
    assert acquire_outcome(kit, bucket, 1) == ["return", True]
    assert clock.now() == pytest.approx(10.5, abs=TOL)
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)
