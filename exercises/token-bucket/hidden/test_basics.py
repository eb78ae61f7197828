"""Hidden tests: a new bucket, taking tokens, the tokens property.

The clock never moves in these tests, so a positive refill_rate adds nothing, and only the
test about taking exactly what is held takes every last token.
"""

import pytest

CANARY = "GRADER-CANARY-token-bucket-5311ec90dcd26b4d"

pytestmark = pytest.mark.category("basics")

TOL = 1e-6


def test_new_bucket_starts_full(subject, kit):
    """A new bucket holds its full capacity."""
    bucket = subject.TokenBucket(5, 1, clock=kit.clock())
    assert bucket.tokens == pytest.approx(5.0, abs=TOL)


def test_tokens_is_a_float_even_for_int_capacity(subject, kit):
    """The tokens property is a float, also when the capacity is an int."""
    bucket = subject.TokenBucket(3, 1, clock=kit.clock())
    assert type(bucket.tokens) is float
    assert bucket.try_acquire(1) is True
    assert type(bucket.tokens) is float


def test_try_acquire_takes_tokens_when_available(subject, kit):
    """A try_acquire call returns True and takes the tokens when enough are available."""
    bucket = subject.TokenBucket(5, 1, clock=kit.clock())
    assert bucket.try_acquire(2) is True
    assert bucket.tokens == pytest.approx(3.0, abs=TOL)


def test_try_acquire_takes_one_token_by_default(subject, kit):
    """Calling try_acquire() with no argument takes one token."""
    bucket = subject.TokenBucket(4, 1, clock=kit.clock())
    assert bucket.try_acquire() is True
    assert bucket.tokens == pytest.approx(3.0, abs=TOL)


def test_failed_try_acquire_takes_nothing(subject, kit):
    """A try_acquire call that finds too few tokens returns False and takes nothing."""
    bucket = subject.TokenBucket(3, 1, clock=kit.clock())
    assert bucket.try_acquire(2) is True
    assert bucket.try_acquire(2) is False
    assert bucket.tokens == pytest.approx(1.0, abs=TOL)
    assert bucket.try_acquire(0.75) is True
    assert bucket.tokens == pytest.approx(0.25, abs=TOL)


def test_repeated_failures_take_nothing(subject, kit):
    """Many failed try_acquire calls in a row leave the tokens untouched."""
    bucket = subject.TokenBucket(2, 1, clock=kit.clock())
    assert bucket.try_acquire(1.5) is True
    results = kit.call_each(bucket.try_acquire, [(1,)] * 20)
    assert results == [False] * 20
    assert bucket.tokens == pytest.approx(0.5, abs=TOL)


def test_can_take_the_whole_capacity_at_once(subject, kit):
    """Asking for exactly the capacity succeeds on a full bucket and empties it."""
    bucket = subject.TokenBucket(3, 1, clock=kit.clock())
    assert bucket.try_acquire(3) is True
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)
    assert bucket.try_acquire(0.5) is False


def test_can_take_exactly_the_tokens_held(subject, kit):
    """Taking exactly as many tokens as are held succeeds."""
    bucket = subject.TokenBucket(4, 1, clock=kit.clock())
    assert bucket.try_acquire(2.5) is True
    assert bucket.try_acquire(1.5) is True
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


def test_fractional_amounts(subject, kit):
    """Fractional capacities and amounts are held and taken exactly."""
    bucket = subject.TokenBucket(2.5, 1, clock=kit.clock())
    assert bucket.tokens == pytest.approx(2.5, abs=TOL)
    assert kit.call_each(bucket.try_acquire, [(0.75,), (0.75,), (0.75,)]) == [True] * 3
    assert bucket.tokens == pytest.approx(0.25, abs=TOL)
    assert bucket.try_acquire(0.5) is False
    assert bucket.try_acquire(0.125) is True
    assert bucket.tokens == pytest.approx(0.125, abs=TOL)


def test_reading_tokens_takes_nothing(subject, kit):
    """Reading the tokens property does not change the bucket."""
    bucket = subject.TokenBucket(4, 1, clock=kit.clock())
    assert bucket.try_acquire(1) is True
    readings = [bucket.tokens for _ in range(5)]
    assert readings == pytest.approx([3.0] * 5, abs=TOL)
    assert bucket.try_acquire(2.5) is True
    assert bucket.tokens == pytest.approx(0.5, abs=TOL)


def test_buckets_are_independent(subject, kit):
    """Each bucket has its own tokens."""
    clock = kit.clock()
    first = subject.TokenBucket(2, 1, clock=clock)
    second = subject.TokenBucket(2, 1, clock=clock)
    assert first.try_acquire(1.5) is True
    assert second.tokens == pytest.approx(2.0, abs=TOL)
    assert second.try_acquire(1.5) is True
    assert first.try_acquire(1) is False
    assert first.tokens == pytest.approx(0.5, abs=TOL)
