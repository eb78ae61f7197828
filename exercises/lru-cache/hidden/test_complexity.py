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


def keep_best(best, key, cost):
    """Keep the lowest cost seen per key. A reading of 0 is skipped: a batch that ran cannot
    cost nothing, so the kernel had not counted its time (docs/writing-an-exercise.md)."""
    if cost > 0:
        best[key] = min(best[key], cost)


def best_costs(kit, subject, reference, batch, ttl=None):
    """The lowest cost of `batch(cache, size, round)` per (implementation, size)."""
    caches = filled(kit, subject, reference, ttl)
    best = dict.fromkeys(caches, math.inf)
    for round_no in range(ROUNDS):
        for (name, size), cache in caches.items():
            method, args = batch(cache, size, round_no)
            keep_best(best, (name, size), kit.cost(method, args))
    return best


def judge(best, small=SMALL, large=LARGE):
    """Fail unless the submission's cost neither grows with size nor exceeds the reference's."""
    floor = 1e-6  # a batch always costs something; guard the divisions
    sub_small, sub_large = max(best["sub", small], floor), max(best["sub", large], floor)
    ref_small, ref_large = max(best["ref", small], floor), max(best["ref", large], floor)
    growth = (sub_large / sub_small) / (ref_large / ref_small)
    ratio = sub_large / ref_large
    assert growth < MAX_GROWTH, f"cost grows {growth:.1f} x faster with size than it should"
    assert ratio < MAX_RATIO, f"cost in a large cache is {ratio:.1f} x the reference's"


def test_get_cost_does_not_grow_with_size(subject, kit, reference):
    """A get must cost the same in a large cache as in a small one, with no scan of the entries."""

    def batch(cache, size, round_no):
        return cache.get, [((round_no * OPS + i * 7) % size,) for i in range(OPS)]

    judge(best_costs(kit, subject, reference, batch))


def test_put_cost_does_not_grow_with_size(subject, kit, reference):
    """A put into a full cache, where each new key evicts one, must not cost more as the cache
    grows."""

    def batch(cache, size, round_no):
        first = size + round_no * OPS
        return cache.put, [(key, key) for key in range(first, first + OPS)]

    judge(best_costs(kit, subject, reference, batch, ttl=10.0**6))


def test_replacing_put_cost_does_not_grow_with_size(subject, kit, reference):
    """A put that replaces a key already held, with an expiry time, must not cost more as the
    cache grows."""

    def batch(cache, size, round_no):
        return cache.put, [((round_no * OPS + i * 7) % size, -i) for i in range(OPS)]

    judge(best_costs(kit, subject, reference, batch, ttl=60.0))


def test_contains_cost_does_not_grow_with_size(subject, kit, reference):
    """The `in` test must cost the same in a large cache as in a small one."""

    def batch(cache, size, round_no):
        return cache.__contains__, [((round_no * OPS + i * 7) % (2 * size),) for i in range(OPS)]

    judge(best_costs(kit, subject, reference, batch, ttl=60.0))


def test_delete_cost_does_not_grow_with_size(subject, kit, reference):
    """A delete, of a present or an absent key, must not cost more as the cache grows."""

    def batch(cache, size, round_no):
        # Each round deletes keys no earlier round touched, half of them present.
        return cache.delete, [
            (size - 1 - (round_no * OPS + i) % size if i % 2 else -1 - i,) for i in range(OPS)
        ]

    judge(best_costs(kit, subject, reference, batch, ttl=60.0))


#: Puts that fill an empty cache whose entries expire: a small and a large cache.
FILL_SMALL, FILL_LARGE = 300, 4_800
#: Puts of one key, few and many, all made before the clock passes their expiry.
REPEAT_SMALL, REPEAT_LARGE = 1_000, 16_000
#: Puts of new keys into a small cache, measured once every earlier entry has expired.
AFTER_REPEATS = 500


def test_filling_a_cache_with_expiry_costs_the_same_per_put(subject, kit, reference):
    """Filling an empty cache whose entries expire must cost the same per put whatever the
    number of entries, so no put may do work that grows with the cache."""
    best = dict.fromkeys(
        [(name, size) for name in ("sub", "ref") for size in (FILL_SMALL, FILL_LARGE)], math.inf
    )
    for _ in range(ROUNDS):
        for name, module in (("sub", subject), ("ref", reference)):
            for size in (FILL_SMALL, FILL_LARGE):
                cache = module.LRUCache(size, ttl=60.0, clock=kit.clock(0.0))
                keep_best(best, (name, size), kit.cost(cache.put, [(k, k) for k in range(size)]))
    judge(best, FILL_SMALL, FILL_LARGE)


def test_repeated_puts_of_one_key_leave_no_growing_bookkeeping(subject, kit, reference):
    """Putting the same key many times must not leave bookkeeping behind that grows with the
    number of puts and makes later calls slower once those puts have expired."""
    best = dict.fromkeys(
        [(name, size) for name in ("sub", "ref") for size in (REPEAT_SMALL, REPEAT_LARGE)],
        math.inf,
    )
    for _ in range(ROUNDS):
        clocks, caches = {}, {}
        for name, module in (("sub", subject), ("ref", reference)):
            for repeats in (REPEAT_SMALL, REPEAT_LARGE):
                clocks[name, repeats] = kit.clock(0.0)
                caches[name, repeats] = module.LRUCache(8, ttl=1.0, clock=clocks[name, repeats])
        kit.call_each_side_by_side(
            [
                (cache.put, [("same", value) for value in range(repeats)])
                for (_, repeats), cache in caches.items()
            ]
        )
        for (name, repeats), cache in caches.items():
            clocks[name, repeats].advance(2.0)  # every put so far has expired
            cost = kit.cost(cache.put, [(key, key) for key in range(AFTER_REPEATS)])
            keep_best(best, (name, repeats), cost)
    judge(best, REPEAT_SMALL, REPEAT_LARGE)
