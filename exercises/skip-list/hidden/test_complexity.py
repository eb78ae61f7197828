"""Hidden tests: insert, get, delete, in make O(log n) comparisons on average; range O(log n + k).

Cost is CPU time measured by the harness from outside the submission's sandbox (`kit.cost`),
never by anything that runs next to the submission. Each test measures batches of operations in
a small list (n = 256) and a list 16 times larger (n = 4096), for the submission and for the
reference solution in the same run, rounds interleaved so that machine load affects all alike,
and keeps the best round. Logarithmic growth makes the large list cost well under twice as
much; a walk along the bottom list costs about 16 times as much, and in the large list dozens
of times what the reference costs.
"""

import math
import random

import pytest

CANARY = "GRADER-CANARY-skip-list-03eb92a6eaae37be"

pytestmark = pytest.mark.category("complexity")

SMALL, LARGE, ROUNDS, SEED = 256, 4096, 3, 7
#: Growth of the submission's cost relative to the reference's growth.
MAX_GROWTH = 3.0
#: The submission's cost in the large list relative to the reference's: a correct list in plain
#: Python stays within a few times the reference; a walk along the bottom list is 10 x and more.
MAX_RATIO = 5.0


def _present(n, count, round_no):
    """``count`` stored keys, spread at random over the upper half of the list (where a walk
    along the bottom list costs the most; a skip list's cost does not depend on the place)."""
    return random.Random(n * 100 + round_no).sample(range(n, 2 * n, 2), count)


def _absent(n, count, round_no):
    """``count`` keys that are not stored, falling between stored keys of the upper half."""
    return random.Random(n * 100 + round_no + 50).sample(range(n + 1, 2 * n, 2), count)


def keep_best(best, key, cost):
    """Keep the lowest cost seen per key. A reading of 0 is skipped: a batch that ran cannot
    cost nothing, so the kernel had not counted its time (docs/writing-an-exercise.md)."""
    if cost > 0:
        best[key] = min(best[key], cost)


def best_costs(kit, subject, reference, batch, collect=False):
    """The lowest cost of ``batch(sl, n, round)`` per (implementation, n). Batches that change
    the list change the submission's and the reference's alike."""
    modules = {"sub": subject, "ref": reference}
    lists = {(m, n): modules[m].SkipList(seed=SEED) for m in modules for n in (SMALL, LARGE)}
    kit.call_each_side_by_side(
        [(sl.insert, [(k, k) for k in range(2 * (n - 1), -1, -2)]) for (_, n), sl in lists.items()]
    )
    best = dict.fromkeys(lists, math.inf)
    for round_no in range(ROUNDS):
        for (m, n), sl in lists.items():
            method, args = batch(sl, n, round_no)
            keep_best(best, (m, n), kit.cost(method, args, collect=collect))
    return best


def judge(best):
    """Fail unless the submission's cost grows like the reference's and stays near it."""
    floor = 1e-6
    sub_small, sub_large = max(best["sub", SMALL], floor), max(best["sub", LARGE], floor)
    ref_small, ref_large = max(best["ref", SMALL], floor), max(best["ref", LARGE], floor)
    growth = (sub_large / sub_small) / (ref_large / ref_small)
    ratio = sub_large / ref_large
    assert growth < MAX_GROWTH, f"cost grows {growth:.1f} x faster with n than it should"
    assert ratio < MAX_RATIO, f"cost in a large list is {ratio:.1f} x the reference's"


def test_get_cost_grows_logarithmically(subject, kit, reference):
    """A get costs O(log n) on average, for present and absent keys."""

    def batch(sl, n, round_no):
        keys = _present(n, 100, round_no) + _absent(n, 100, round_no)
        return sl.get, [(k, "absent") for k in keys]

    judge(best_costs(kit, subject, reference, batch))


def test_contains_cost_grows_logarithmically(subject, kit, reference):
    """The `in` test costs O(log n) on average."""

    def batch(sl, n, round_no):
        keys = _present(n, 100, round_no) + _absent(n, 100, round_no)
        return sl.__contains__, [(k,) for k in keys]

    judge(best_costs(kit, subject, reference, batch))


def test_insert_cost_grows_logarithmically(subject, kit, reference):
    """An insert costs O(log n) on average, for new keys and replacements."""

    def batch(sl, n, round_no):
        keys = _absent(n, 100, round_no) + _present(n, 100, round_no)
        return sl.insert, [(k, "new") for k in keys]

    judge(best_costs(kit, subject, reference, batch))


def test_delete_cost_grows_logarithmically(subject, kit, reference):
    """A delete costs O(log n) on average, for present and absent keys."""

    def batch(sl, n, round_no):
        keys = _present(n, 100, round_no) + _absent(n, 100, round_no)
        return sl.delete, [(k,) for k in keys]

    judge(best_costs(kit, subject, reference, batch))


def test_narrow_range_cost_grows_logarithmically(subject, kit, reference):
    """A range query costs O(log n + k): a narrow range stays cheap in a big list."""

    def batch(sl, n, round_no):
        # Narrow ranges (one or two keys each): the cost is finding where a range starts.
        starts = random.Random(n + round_no).sample(range(n, 2 * n), 200)
        return sl.range, [(lo, lo + 3) for lo in starts]

    judge(best_costs(kit, subject, reference, batch, collect=True))
