"""Hidden tests: every method is atomic with respect to the others.

One thread is stopped before each line of a method in turn (``kit.interleavings``) while
another thread takes a token from the same bucket; wherever the first one stops, the results
must be those of the two calls made one after the other, in some order. The bucket holds no
token and is owed exactly one by the refill, so between them the two calls can be granted
that one token and no more.
"""

import pytest

CANARY = "GRADER-CANARY-token-bucket-5311ec90dcd26b4d"

pytestmark = pytest.mark.category("concurrency")

TOL = 1e-6

#: The first call of each test, and what it returns when made before / after the other
#: thread's try_acquire(1) (None: it takes tokens, so exactly one of the two calls gets one).
FIRST_CALLS = {
    "tokens": (lambda kit, bucket: (kit.read, (bucket, "tokens")), (1.0, 0.0)),
    "time_until": (lambda kit, bucket: (bucket.time_until, [1]), (0.0, 1.0)),
    "try_acquire": (lambda kit, bucket: (bucket.try_acquire, [1]), None),
    "acquire": (lambda kit, bucket: (bucket.acquire, [1], {"timeout": 0}), None),
}


def owed_one_token(subject, kit):
    """A bucket (capacity 4, 1 token per second) emptied at 0.0, its clock now at 1.0."""
    clock = kit.clock()
    bucket = subject.TokenBucket(4, 1, clock=clock, sleep=kit.sleeper(clock))
    assert bucket.try_acquire(4) is True
    clock.advance(1.0)
    return bucket


def check_serial(point, first_outcome, second_outcome, serial_values, left):
    """The outcomes at one point are those of some serial order of the two calls."""
    where = f"first call stopped before line {point} of its code"
    assert first_outcome[0] == "return", f"{where}: the first call ended with {first_outcome}"
    assert second_outcome[0] == "return", f"{where}: try_acquire ended with {second_outcome}"
    first, took = first_outcome[1], second_outcome[1]
    assert type(took) is bool, f"{where}: try_acquire returned {took!r}"
    if serial_values is None:
        assert type(first) is bool, f"{where}: the first call returned {first!r}"
        assert [first, took].count(True) == 1, (
            f"{where}: {[first, took].count(True)} calls were granted the one token owed"
        )
    else:
        assert took is True, f"{where}: try_acquire was refused the token owed"
        assert any(first == pytest.approx(v, abs=TOL) for v in serial_values), (
            f"{where}: the first call returned {first!r}, which neither order gives"
        )
    assert left == pytest.approx(0.0, abs=TOL), (
        f"{where}: {left} tokens left after one token was owed and one was granted"
    )


@pytest.mark.parametrize("name", list(FIRST_CALLS))
def test_each_method_is_atomic_against_a_concurrent_take(subject, kit, name):
    """A call of each method (tokens, time_until, try_acquire, acquire), stopped at any point
    while another thread takes a token, gives the results of the two calls made one after
    the other: refilled tokens are counted once, and one token is granted once."""
    make_call, serial_values = FIRST_CALLS[name]
    points = kit.interleavings(
        lambda: owed_one_token(subject, kit),
        lambda bucket: make_call(kit, bucket),
        lambda bucket: (bucket.try_acquire, [1]),
    )
    assert len(points) >= 2
    for point in points:
        left = point.target.tokens
        check_serial(point.point, point.first, point.second, serial_values, left)
