"""Hidden tests: concurrent callers are never granted more tokens than the bucket held."""

import pytest

CANARY = "GRADER-CANARY-token-bucket-5311ec90dcd26b4d"

pytestmark = pytest.mark.category("concurrency")

TOL = 1e-6
JOIN_TIMEOUT = 4.0
SWITCH = 1e-6


def returned(outcomes):
    """The values the threads returned; fails if any thread raised or hung."""
    assert all(outcome[0] == "return" for outcome in outcomes)
    return [outcome[1] for outcome in outcomes]


def test_racing_try_acquires_get_exactly_the_capacity(subject, kit):
    """Threads racing with try_acquire on a bucket that never refills get exactly its tokens."""
    bucket = subject.TokenBucket(10, 0, clock=kit.clock())
    group = kit.threads([(bucket.try_acquire, [1])] * 40, switch_interval=SWITCH)
    results = returned(group.join(timeout=JOIN_TIMEOUT))
    assert results.count(True) == 10
    assert results.count(False) == 30
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


def test_racing_fractional_takes_get_exactly_the_capacity(subject, kit):
    """Threads racing for fractional amounts are granted exactly what the bucket held."""
    bucket = subject.TokenBucket(5, 0, clock=kit.clock())
    group = kit.threads([(bucket.try_acquire, [0.5])] * 30, switch_interval=SWITCH)
    results = returned(group.join(timeout=JOIN_TIMEOUT))
    assert results.count(True) == 10
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


def test_racing_mixed_amounts_conserve_tokens(subject, kit):
    """With mixed amounts, the tokens granted plus the tokens left equal what the bucket held."""
    bucket = subject.TokenBucket(8, 0, clock=kit.clock())
    amounts = [0.5, 1, 1.5, 2, 2.5, 3] * 5
    calls = [(bucket.try_acquire, [n]) for n in amounts]
    results = returned(kit.threads(calls, switch_interval=SWITCH).join(timeout=JOIN_TIMEOUT))
    granted = sum(n for n, ok in zip(amounts, results, strict=True) if ok)
    assert granted <= 8 + TOL
    remaining = 8 - granted
    assert bucket.tokens == pytest.approx(remaining, abs=TOL)
    # The bucket only empties, so every refused amount is more than what is left at the end.
    refused = [n for n, ok in zip(amounts, results, strict=True) if not ok]
    assert all(n > remaining - TOL for n in refused)


def test_racing_zero_timeout_acquires_get_exactly_the_capacity(subject, kit):
    """Threads racing with acquire(timeout=0) on a bucket that never refills get its tokens."""
    clock = kit.clock()
    bucket = subject.TokenBucket(4, 0, clock=clock, sleep=kit.sleeper(clock))
    calls = [(bucket.acquire, [1], {"timeout": 0})] * 12
    results = returned(kit.threads(calls, switch_interval=SWITCH).join(timeout=JOIN_TIMEOUT))
    assert results.count(True) == 4
    assert results.count(False) == 8


def test_racing_timed_acquires_without_refill(subject, kit):
    """Threads waiting with a timeout on a bucket that never refills: only its tokens go out."""
    clock = kit.clock()
    bucket = subject.TokenBucket(3, 0, clock=clock, sleep=kit.sleeper(clock))
    calls = [(bucket.acquire, [1], {"timeout": 0.5})] * 10
    results = returned(kit.threads(calls, switch_interval=SWITCH).join(timeout=JOIN_TIMEOUT))
    assert results.count(True) == 3
    assert results.count(False) == 7
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


def test_blocking_acquires_share_the_refill(subject, kit):
    """Threads blocking in acquire all get their tokens, never more than capacity plus refill."""
    clock = kit.clock()
    bucket = subject.TokenBucket(2, 4, clock=clock, sleep=kit.sleeper(clock))
    calls = [(bucket.acquire, [1])] * 8
    results = returned(kit.threads(calls, switch_interval=SWITCH).join(timeout=JOIN_TIMEOUT))
    assert results == [True] * 8
    # 8 tokens granted: 2 held at the start, 6 refilled at 4 per second.
    assert clock.now() >= 1.5 - TOL
    assert -TOL <= bucket.tokens <= 2 + TOL
