"""Hidden tests: time_until, and acquire with and without a timeout.

Where a test needs acquire to be caught asleep, its sleep is a scripted callable that waits at
a gate: the test moves the clock itself while the sleep is held, as a real sleep would.
"""

import math

import pytest

CANARY = "GRADER-CANARY-token-bucket-5311ec90dcd26b4d"

pytestmark = pytest.mark.category("waiting")

TOL = 1e-6
JOIN_TIMEOUT = 2.0
#: Generous bound for a thread to reach a gate or finish: only a broken bucket waits it out.
PATIENCE = 3.0
#: Sleeps a held-sleep script answers after its gate opened, before it raises: a correct
#: acquire makes at most a few zero-length ones, a broken one would loop for ever.
SPARE_SLEEPS = 10


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


def held_sleep(kit, gate):
    """A sleep whose calls wait at ``gate`` and move no clock; after the gate opened it
    answers SPARE_SLEEPS more calls, then raises (so a looping acquire ends)."""
    steps = [("return", None)] * (1 + SPARE_SLEEPS)
    steps.append(("raise", "RuntimeError", "acquire kept sleeping after its timeout"))
    return kit.script(steps, name="sleep", gate=gate)


# -- time_until ---------------------------------------------------------------------------


def test_time_until_is_zero_when_tokens_are_available(subject, kit):
    """The time_until method returns 0.0 when the tokens are available now."""
    bucket, _, _ = make_bucket(subject, kit, 4, 2)
    assert bucket.time_until(4) == pytest.approx(0.0, abs=TOL)
    assert bucket.try_acquire(1.5) is True
    assert bucket.time_until() == pytest.approx(0.0, abs=TOL)
    assert bucket.time_until(2.5) == pytest.approx(0.0, abs=TOL)


def test_time_until_is_the_shortfall_over_the_rate(subject, kit):
    """The time_until method returns the time needed to refill the missing tokens."""
    bucket, _, _ = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(3.5) is True
    assert bucket.time_until() == pytest.approx(0.25, abs=TOL)
    assert bucket.time_until(3) == pytest.approx(1.25, abs=TOL)


def test_time_until_counts_tokens_already_held(subject, kit):
    """The time_until method counts only the tokens still missing, after a partial refill."""
    bucket, clock, _ = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(3.5) is True
    clock.advance(0.25)
    assert bucket.time_until(2) == pytest.approx(0.5, abs=TOL)
    assert bucket.time_until(0.5) == pytest.approx(0.0, abs=TOL)


def test_time_until_is_infinite_when_never_refilled(subject, kit):
    """With refill_rate 0, time_until returns math.inf when too few tokens are held."""
    bucket, _, _ = make_bucket(subject, kit, 4, 0)
    assert bucket.try_acquire(3) is True
    assert bucket.time_until(2) == math.inf
    assert bucket.time_until(1) == pytest.approx(0.0, abs=TOL)


def test_time_until_takes_nothing_and_is_accurate(subject, kit):
    """The time_until method takes nothing, and after that many seconds the tokens are there."""
    bucket, clock, _ = make_bucket(subject, kit, 8, 4)
    assert bucket.try_acquire(7.5) is True
    wait = bucket.time_until(3)
    assert bucket.tokens == pytest.approx(0.5, abs=TOL)
    clock.advance(wait)
    assert bucket.tokens == pytest.approx(3.0, abs=TOL)


# -- acquire without a timeout --------------------------------------------------------------


def test_acquire_takes_available_tokens_without_waiting(subject, kit):
    """An acquire call takes available tokens at once and returns True without waiting."""
    bucket, clock, sleep = make_bucket(subject, kit, 4, 2)
    assert acquire_outcome(kit, bucket, 3) == ["return", True]
    assert sleep.total() == pytest.approx(0.0, abs=TOL)
    assert bucket.tokens == pytest.approx(1.0, abs=TOL)
    assert clock.now() == pytest.approx(0.0, abs=TOL)


def test_acquire_waits_through_the_injected_sleep(subject, kit):
    """An acquire call waits for missing tokens only through the injected sleep, then takes
    them."""
    bucket, clock, sleep = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(3.5) is True
    assert acquire_outcome(kit, bucket, 2) == ["return", True]
    assert sleep.total() == pytest.approx(0.75, abs=TOL)
    assert clock.now() == pytest.approx(0.75, abs=TOL)
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


def test_acquire_takes_one_token_by_default(subject, kit):
    """Calling acquire() with no argument waits for and takes one token."""
    bucket, clock, _ = make_bucket(subject, kit, 2, 4)
    assert bucket.try_acquire(1.5) is True
    assert acquire_outcome(kit, bucket) == ["return", True]
    assert clock.now() == pytest.approx(0.125, abs=TOL)
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
    bucket, _, sleep = make_bucket(subject, kit, 4, 0.5)
    assert bucket.try_acquire(3.5) is True
    assert acquire_outcome(kit, bucket, 1) == ["return", True]
    assert sleep.total() == pytest.approx(1.0, abs=TOL)
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


# -- acquire with a timeout -----------------------------------------------------------------


def test_acquire_with_enough_timeout_succeeds(subject, kit):
    """An acquire call returns True when the tokens come within the timeout, waiting only as
    long as needed."""
    bucket, _, sleep = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(3.5) is True
    assert acquire_outcome(kit, bucket, 1, timeout=0.625) == ["return", True]
    assert sleep.total() == pytest.approx(0.25, abs=TOL)
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


def test_acquire_with_short_timeout_fails_and_takes_nothing(subject, kit):
    """An acquire call returns False and takes nothing when the tokens cannot come within the
    timeout."""
    bucket, clock, sleep = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(3.5) is True
    assert acquire_outcome(kit, bucket, 3, timeout=1.0) == ["return", False]
    assert sleep.total() <= 1.0 + TOL
    # Nothing was taken: the bucket holds exactly what has refilled meanwhile.
    assert bucket.tokens == pytest.approx(0.5 + 2 * clock.now(), abs=TOL)


def test_failed_timed_acquire_does_not_hold_tokens_back(subject, kit):
    """After a timed acquire gave up, the refilled tokens are there for later callers."""
    bucket, clock, _ = make_bucket(subject, kit, 4, 2)
    assert bucket.try_acquire(3.5) is True
    assert acquire_outcome(kit, bucket, 4, timeout=0.5) == ["return", False]
    clock.set(1.0)
    assert bucket.try_acquire(2) is True
    assert bucket.tokens == pytest.approx(0.5, abs=TOL)


def test_acquire_with_zero_timeout_does_not_wait(subject, kit):
    """An acquire call with timeout 0 takes available tokens, else returns False at once."""
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
    assert acquire_outcome(kit, bucket, 0.5, timeout=5) == ["return", True]
    assert bucket.tokens == pytest.approx(0.5, abs=TOL)


def test_timeout_counts_from_the_call_whatever_the_clock_reads(subject, kit):
    """A timeout is measured from the clock reading at the call, whatever that reading is: a
    clock far from 0 changes nothing."""
    bucket, clock, sleep = make_bucket(subject, kit, 4, 2, start=1000.0)
    assert bucket.try_acquire(3.5) is True
    assert acquire_outcome(kit, bucket, 3, timeout=1.0) == ["return", False]
    assert sleep.total() <= 1.0 + TOL
    assert bucket.tokens == pytest.approx(0.5 + 2 * (clock.now() - 1000.0), abs=TOL)

    bucket, clock, sleep = make_bucket(subject, kit, 4, 2, start=250.0)
    assert bucket.try_acquire(3.5) is True
    assert acquire_outcome(kit, bucket, 1, timeout=0.5) == ["return", True]
    assert sleep.total() == pytest.approx(0.25, abs=TOL)
    assert clock.now() == pytest.approx(250.25, abs=TOL)


def test_tokens_due_exactly_at_the_timeout_are_taken(subject, kit):
    """Tokens that become available exactly when the timeout ends still count as within it."""
    bucket, clock, sleep = make_bucket(subject, kit, 4, 2, start=7.0)
    assert bucket.try_acquire(3.5) is True
    assert acquire_outcome(kit, bucket, 2.5, timeout=1.0) == ["return", True]
    assert sleep.total() == pytest.approx(1.0, abs=TOL)
    assert clock.now() == pytest.approx(8.0, abs=TOL)
    assert bucket.tokens == pytest.approx(0.0, abs=TOL)


def test_timeout_is_not_restarted_when_the_tokens_are_taken_meanwhile(subject, kit):
    """The timeout counts from the call, not from the latest sleep: an acquire that wakes
    after its timeout has passed, the tokens it waited for taken by another caller, returns
    False without waiting again."""
    clock = kit.clock(1000.0)
    gate = kit.gate()
    sleep = held_sleep(kit, gate)
    bucket = subject.TokenBucket(1, 1, clock=clock, sleep=sleep)
    assert bucket.try_acquire(0.5) is True
    waiter = kit.threads([(bucket.acquire, [1], {"timeout": 1.5})])
    try:
        assert gate.wait_for_waiters(1, timeout=PATIENCE)
        # The sleep outlasts the timeout (as a real sleep may), and meanwhile another caller
        # takes most of what refilled.
        clock.set(1002.0)
        (taken,) = kit.threads([(bucket.try_acquire, [0.75])]).join(timeout=PATIENCE)
        assert taken == ["return", True]
    finally:
        gate.open()
    (outcome,) = waiter.join(timeout=PATIENCE)
    assert outcome == ["return", False]
    later = [call[0][0] for call in sleep.calls()[1:]]
    assert all(seconds == 0 for seconds in later)
