"""Visible tests for token_bucket.py: a few basics. The hidden suite checks much more."""

import math

import pytest
from token_bucket import TokenBucket


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now


class FakeSleep:
    """A sleep that moves a FakeClock forward instead of waiting, and records the durations."""

    def __init__(self, clock):
        self.clock = clock
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)
        self.clock.now += seconds


def test_starts_full_and_try_acquire_takes_tokens():
    bucket = TokenBucket(4, 2, clock=FakeClock())
    assert bucket.tokens == pytest.approx(4.0)
    assert bucket.try_acquire(3) is True
    assert bucket.tokens == pytest.approx(1.0)


def test_failed_try_acquire_takes_nothing():
    bucket = TokenBucket(4, 2, clock=FakeClock())
    assert bucket.try_acquire(3) is True
    assert bucket.try_acquire(2) is False
    assert bucket.tokens == pytest.approx(1.0)


def test_refills_continuously_up_to_capacity():
    clock = FakeClock()
    bucket = TokenBucket(4, 2, clock=clock)
    assert bucket.try_acquire(4) is True
    clock.now = 0.75
    assert bucket.tokens == pytest.approx(1.5)
    clock.now = 100.0
    assert bucket.tokens == pytest.approx(4.0)


def test_time_until():
    bucket = TokenBucket(4, 2, clock=FakeClock())
    assert bucket.time_until(4) == pytest.approx(0.0)
    assert bucket.try_acquire(3) is True
    assert bucket.time_until(2) == pytest.approx(0.5)
    never = TokenBucket(1, 0, clock=FakeClock())
    assert never.try_acquire() is True
    assert never.time_until() == math.inf


def test_acquire_waits_through_the_given_sleep():
    clock = FakeClock()
    sleep = FakeSleep(clock)
    bucket = TokenBucket(4, 2, clock=clock, sleep=sleep)
    assert bucket.try_acquire(4) is True
    assert bucket.acquire(1) is True
    assert sum(sleep.calls) == pytest.approx(0.5)
    assert bucket.tokens == pytest.approx(0.0)


def test_acquire_with_timeout_gives_up_without_taking():
    clock = FakeClock()
    sleep = FakeSleep(clock)
    bucket = TokenBucket(4, 2, clock=clock, sleep=sleep)
    assert bucket.try_acquire(4) is True
    assert bucket.acquire(2, timeout=0.5) is False
    assert sum(sleep.calls) <= 0.5 + 1e-6
    assert bucket.tokens == pytest.approx(2 * clock.now)


def test_invalid_arguments_raise_value_error():
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    with pytest.raises(ValueError):
        TokenBucket(1, -1)
    bucket = TokenBucket(4, 2, clock=FakeClock())
    with pytest.raises(ValueError):
        bucket.try_acquire(0)
    with pytest.raises(ValueError):
        bucket.try_acquire(5)
