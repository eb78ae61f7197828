"""Hidden tests: get, put, delete and `in` cost O(1) on average, whatever the cache size.

Cost is CPU time measured by the harness from outside the submission's sandbox (`kit.cost`),
never by anything that runs next to the submission. Each test measures batches of operations
in a small and a large cache, for the submission and for the reference solution in the same
run, rounds interleaved so that machine load affects all alike, and keeps the best round.

Two judgements, both needed:
- growth: how much more an operation costs in the large cache than in the small one, relative
  to the reference's own growth (about 1 for any O(1) solution, about LARGE / SMALL for a scan);
- ratio: the cost in the large cache relative to the reference's, so that making the small case
  slow on purpose does not hide a scan.
"""

import math

import pytest

CANARY = "GRADER-CANARY-lru-cache-612281109267e324"

pytestmark = pytest.mark.category("complexity")

#: Cache sizes, operations per batch and interleaved rounds.
SMALL, LARGE, OPS, ROUNDS = 100, 10_000, 2_000, 3
#: An O(1) solution grows like the reference (about 1); a scan grows about LARGE / SMALL = 100 x.
MAX_GROWTH = 4.0
#: A correct solution in plain Python (a dict and a linked list of its own) stays within about
#: twice the reference; a list searched on each call (even at C speed, `list.remove`) is ten
#: times the reference and more at 10,000 entries.
MAX_RATIO = 4.0


def filled(kit, subject, reference, ttl):
    """Full caches of SMALL and LARGE int keys, per implementation, filled side by side."""
    caches = {
        (name, size): module.LRUCache(size, ttl=ttl, clock=kit.clock(0.0))
        for name, module in (("sub", subject), ("ref", reference))
        for size in (SMALL, LARGE)
    }
    kit.call_each_side_by_side(
        [(cache.put, [(i, i) for i in range(size)]) for (_, size), cache in caches.items()]
    )
    return caches


def best_costs(kit, subject, reference, batch, ttl=None):
    """The lowest cost of `batch(cache, size, round)` per (implementation, size)."""
    caches = filled(kit, subject, reference, ttl)
    best = dict.fromkeys(caches, math.inf)
    for round_no in range(ROUNDS):
        for (name, size), cache in caches.items():
            method, args = batch(cache, size, round_no)
            best[name, size] = min(best[name, size], kit.cost(method, args))
    return best


def judge(best):
    """Fail unless the submission's cost neither grows with size nor exceeds the reference's."""
    floor = 1e-6  # a batch always costs something; guard the divisions
    sub_small, sub_large = max(best["sub", SMALL], floor), max(best["sub", LARGE], floor)
    ref_small, ref_large = max(best["ref", SMALL], floor), max(best["ref", LARGE], floor)
    growth = (sub_large / sub_small) / (ref_large / ref_small)
    ratio = sub_large / ref_large
    assert growth < MAX_GROWTH, f"cost grows {growth:.1f} x faster with size than it should"
    assert ratio < MAX_RATIO, f"cost in a large cache is {ratio:.1f} x the reference's"


def test_get_cost_does_not_grow_with_size(subject, kit, reference):
    """get must cost the same per call in a large cache as in a small one (no scans)."""

    def batch(cache, size, round_no):
        return cache.get, [((round_no * OPS + i * 7) % size,) for i in range(OPS)]

    judge(best_costs(kit, subject, reference, batch))


def test_put_cost_does_not_grow_with_size(subject, kit, reference):
    """put into a full cache (each new key evicts one) must not cost more as the cache grows."""

    def batch(cache, size, round_no):
        first = size + round_no * OPS
        return cache.put, [(key, key) for key in range(first, first + OPS)]

    judge(best_costs(kit, subject, reference, batch, ttl=10.0**6))


def test_replacing_put_cost_does_not_grow_with_size(subject, kit, reference):
    """put of keys already held (with expiry times) must not cost more as the cache grows."""

    def batch(cache, size, round_no):
        return cache.put, [((round_no * OPS + i * 7) % size, -i) for i in range(OPS)]

    judge(best_costs(kit, subject, reference, batch, ttl=60.0))


def test_contains_cost_does_not_grow_with_size(subject, kit, reference):
    """`in` must cost the same per call in a large cache as in a small one."""

    def batch(cache, size, round_no):
        return cache.__contains__, [((round_no * OPS + i * 7) % (2 * size),) for i in range(OPS)]

    judge(best_costs(kit, subject, reference, batch, ttl=60.0))


def test_delete_cost_does_not_grow_with_size(subject, kit, reference):
    """delete (of present and absent keys) must not cost more as the cache grows."""

    def batch(cache, size, round_no):
        # Each round deletes keys no earlier round touched, half of them present.
        return cache.delete, [
            (size - 1 - (round_no * OPS + i) % size if i % 2 else -1 - i,) for i in range(OPS)
        ]

    judge(best_costs(kit, subject, reference, batch, ttl=60.0))
