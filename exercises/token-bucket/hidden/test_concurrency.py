"""Hidden tests: concurrent callers are never granted more tokens than the bucket held, and a
thread waiting in acquire holds up nobody.

The clock does not move in the racing tests, so a positive refill_rate adds nothing; the
capacities leave a fraction over, so that no test depends on taking exactly what is held.
"""

import pytest

CANARY = "GRADER-CANARY-token-bucket-5311ec90dcd26b4d"

pytestmark = pytest.mark.category("concurrency")

TOL = 1e-6
JOIN_TIMEOUT = 4.0
SWITCH = 1e-6
#: Generous bound for a thread to reach a gate or finish: only a broken bucket waits it out.
PATIENCE = 3.0
#: Rounds of the hammer test: each round is a fresh chance for an unlocked take to interleave.
HAMMER_ROUNDS = 8


def returned(outcomes):
    """The values the threads returned; fails if any thread raised or hung."""
    assert all(outcome[0] == "return" for outcome in outcomes)
    return [outcome[1] for outcome in outcomes]


def test_racing_try_acquires_get_exactly_the_capacity(subject, kit):
    """Threads racing with try_acquire are granted exactly the tokens the bucket held."""
    bucket = subject.TokenBucket(10.5, 1, clock=kit.clock())
    group = kit.threads([(bucket.try_acquire, [1])] * 40, switch_interval=SWITCH)
    results = returned(group.join(timeout=JOIN_TIMEOUT))
    assert results.count(True) == 10
    assert results.count(False) == 30
    assert bucket.tokens == pytest.approx(0.5, abs=TOL)


def test_racing_fractional_takes_get_exactly_the_capacity(subject, kit):
    """Threads racing for fractional amounts are granted exactly what the bucket held."""
    bucket = subject.TokenBucket(5.25, 1, clock=kit.clock())
    group = kit.threads([(bucket.try_acquire, [0.5])] * 30, switch_interval=SWITCH)
    results = returned(group.join(timeout=JOIN_TIMEOUT))
    assert results.count(True) == 10
    assert bucket.tokens == pytest.approx(0.25, abs=TOL)


def test_racing_mixed_amounts_conserve_tokens(subject, kit):
    """With mixed amounts, the tokens granted plus the tokens left equal what the bucket held."""
    bucket = subject.TokenBucket(8, 1, clock=kit.clock())
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
    """Threads racing with acquire(timeout=0) are granted exactly the tokens the bucket held."""
    clock = kit.clock()
    bucket = subject.TokenBucket(4.5, 1, clock=clock, sleep=kit.sleeper(clock))
    calls = [(bucket.acquire, [1], {"timeout": 0})] * 12
    results = returned(kit.threads(calls, switch_interval=SWITCH).join(timeout=JOIN_TIMEOUT))
    assert results.count(True) == 4
    assert results.count(False) == 8


def test_racing_timed_acquires_without_refill(subject, kit):
    """Threads waiting with a timeout on a bucket that never refills are granted only what it
    held."""
    clock = kit.clock()
    bucket = subject.TokenBucket(3.5, 0, clock=clock, sleep=kit.sleeper(clock))
    calls = [(bucket.acquire, [1], {"timeout": 0.5})] * 10
    results = returned(kit.threads(calls, switch_interval=SWITCH).join(timeout=JOIN_TIMEOUT))
    assert results.count(True) == 3
    assert results.count(False) == 7
    assert bucket.tokens == pytest.approx(0.5, abs=TOL)


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


def test_other_callers_go_ahead_while_acquire_sleeps(subject, kit):
    """While one thread waits in acquire, calls from other threads return at once instead of
    waiting for it."""
    clock = kit.clock(30.0)
    gate = kit.gate()
    steps = [("return", None)] * 11 + [("raise", "RuntimeError", "acquire kept sleeping")]
    sleep = kit.script(steps, name="sleep", gate=gate)
    bucket = subject.TokenBucket(4, 2, clock=clock, sleep=sleep)
    assert bucket.try_acquire(3.5) is True
    waiter = kit.threads([(bucket.acquire, [2])])
    try:
        assert gate.wait_for_waiters(1, timeout=PATIENCE)
        calls = [(bucket.try_acquire, [0.25]), (bucket.time_until, [1]), (bucket.try_acquire, [2])]
        others = kit.threads(calls).join(timeout=PATIENCE)
        assert [outcome[0] for outcome in others] == ["return"] * 3
        clock.advance(1.0)
    finally:
        gate.open()
    (outcome,) = waiter.join(timeout=PATIENCE)
    assert outcome == ["return", True]


def test_hammered_bucket_never_over_grants(subject, kit):
    """Threads taking tokens in tight loops, with try_acquire and with acquire(timeout=0), are
    granted exactly the tokens the bucket held, round after round."""
    for _ in range(HAMMER_ROUNDS):
        clock = kit.clock()
        bucket = subject.TokenBucket(600.5, 1, clock=clock, sleep=kit.sleeper(clock))
        calls = [(kit.call_each, (bucket.try_acquire, [[1]] * 150))] * 4
        calls += [(kit.call_each, (bucket.acquire, [[1, 0]] * 150))] * 4
        outcomes = kit.threads(calls, switch_interval=SWITCH).join(timeout=JOIN_TIMEOUT)
        granted = sum(results.count(True) for results in returned(outcomes))
        assert granted == 600
        assert bucket.tokens == pytest.approx(0.5, abs=TOL)
