"""Hidden tests: insert, get, delete, in make O(log n) comparisons on average; range O(log n + k).

Comparisons are counted with the kit's counting keys. Each test measures the average per
operation in a small list (n = 256) and a list 16 times larger (n = 4096), over several seeds.
Logarithmic growth makes the large list cost well under twice as much; a linear walk costs
about 16 times as much.
"""

import random

import pytest

CANARY = "GRADER-CANARY-skip-list-03eb92a6eaae37be"

pytestmark = pytest.mark.category("complexity")

SMALL, LARGE = 256, 4096
SEEDS = (1, 2, 3)
MAX_GROWTH = 3.0


def _build(subject, kit, n, seed):
    """A skip list holding the even keys 0, 2, ..., 2(n-1), inserted largest first."""
    sl = subject.SkipList(seed=seed)
    kit.call_each(sl.insert, [(k, k) for k in range(2 * (n - 1), -1, -2)])
    return sl


def _present(n, count):
    """``count`` stored keys, spread at random over the list."""
    return random.Random(n).sample(range(0, 2 * n, 2), count)


def _absent(n, count):
    """``count`` keys that are not stored, falling between stored keys."""
    return random.Random(n + 1).sample(range(1, 2 * n, 2), count)


def _growth(measure):
    """Average cost per operation at LARGE divided by the one at SMALL, over all seeds."""
    small = sum(measure(SMALL, seed) for seed in SEEDS)
    large = sum(measure(LARGE, seed) for seed in SEEDS)
    return large / small


def test_get_comparisons_grow_logarithmically(subject, kit):
    """get makes O(log n) key comparisons on average, for present and absent keys."""

    def measure(n, seed):
        sl = _build(subject, kit, n, seed)
        counter = kit.counter()
        values = _present(n, 100) + _absent(n, 100)
        results = kit.call_each(sl.get, [(k, "absent") for k in counter.keys(values)])
        assert results == [v if v % 2 == 0 else "absent" for v in values]
        return counter.comparisons() / len(values)

    assert _growth(measure) < MAX_GROWTH


def test_contains_comparisons_grow_logarithmically(subject, kit):
    """key in sl makes O(log n) key comparisons on average."""

    def measure(n, seed):
        sl = _build(subject, kit, n, seed)
        counter = kit.counter()
        values = _present(n, 40) + _absent(n, 40)
        found = kit.call_each(sl.__contains__, [(key,) for key in counter.keys(values)])
        assert found == [value % 2 == 0 for value in values]
        return counter.comparisons() / len(values)

    assert _growth(measure) < MAX_GROWTH


def test_insert_comparisons_grow_logarithmically(subject, kit):
    """insert makes O(log n) key comparisons on average, for new keys and replacements."""

    def measure(n, seed):
        sl = _build(subject, kit, n, seed)
        counter = kit.counter()
        values = _absent(n, 100) + _present(n, 100)
        kit.call_each(sl.insert, [(k, "new") for k in counter.keys(values)])
        cost = counter.comparisons() / len(values)
        assert len(sl) == n + 100
        return cost

    assert _growth(measure) < MAX_GROWTH


def test_delete_comparisons_grow_logarithmically(subject, kit):
    """delete makes O(log n) key comparisons on average, for present and absent keys."""

    def measure(n, seed):
        sl = _build(subject, kit, n, seed)
        counter = kit.counter()
        values = _present(n, 100) + _absent(n, 100)
        results = kit.call_each(sl.delete, [(k,) for k in counter.keys(values)])
        assert results == [True] * 100 + [False] * 100
        return counter.comparisons() / len(values)

    assert _growth(measure) < MAX_GROWTH


def test_narrow_range_comparisons_grow_logarithmically(subject, kit):
    """range(lo, hi) makes O(log n + k) comparisons: a narrow range stays cheap in a big list."""

    def measure(n, seed):
        sl = _build(subject, kit, n, seed)
        counter = kit.counter()
        starts = random.Random(n + 2).sample(range(0, 2 * n), 40)
        bounds = counter.keys([b for lo in starts for b in (lo, lo + 9)])
        got = kit.collect_each(sl.range, [bounds[i : i + 2] for i in range(0, len(bounds), 2)])
        expected = [
            [(k, k) for k in range(lo + lo % 2, min(lo + 9, 2 * n), 2)] for lo in starts
        ]
        assert got == expected
        return counter.comparisons() / len(starts)

    assert _growth(measure) < MAX_GROWTH
