"""Hidden tests: get, put, delete and `in` cost O(1) on average, whatever the cache size.

Key work is measured with counting keys (every hash and comparison of a key is counted); time is
only compared as a growth ratio between a small and a large cache measured in the same run.
"""

import math

import pytest

CANARY = "GRADER-CANARY-lru-cache-612281109267e324"

pytestmark = pytest.mark.category("complexity")

#: Entries in the caches of the counting tests.
N = 2000
#: Allowed hashes + comparisons of keys per operation, on average: a constant, with room for an
#: O(log n) expiry heap. A recency list searched on every call needs about N / 2.
BUDGET_PER_OP = 64

#: Cache sizes, operations per timed batch and batches per size in the timing tests.
SMALL, LARGE, OPS, ROUNDS = 200, 3200, 400, 5
#: How much slower per operation the large cache may be than the small one. O(1) operations
#: stay near 1; an O(n) scan per operation makes it about LARGE / SMALL = 16.
MAX_GROWTH = 4.0


def counted_cache(subject, kit, ttl):
    """A full cache of N counting keys (written in order 0..N-1), its keys and the counter."""
    counter = kit.counter()
    keys = counter.keys(range(N))
    cache = subject.LRUCache(N, ttl=ttl, clock=kit.clock(1000.0))
    kit.call_each(cache.put, [(key, i) for i, key in enumerate(keys)])
    counter.reset()
    return cache, keys, counter


def key_work(counter):
    """Hashes and comparisons of keys counted since the last reset."""
    return counter.hashes() + counter.comparisons()


def test_get_work_does_not_grow_with_size(subject, kit):
    """get must hash and compare keys only a bounded number of times, not per entry held."""
    cache, keys, counter = counted_cache(subject, kit, ttl=None)
    values = kit.call_each(cache.get, [(key,) for key in reversed(keys)])
    assert values == list(reversed(range(N)))
    assert key_work(counter) <= BUDGET_PER_OP * N


def test_put_work_does_not_grow_with_size(subject, kit):
    """put (replacing keys, or adding keys that evict) must do bounded key work per call."""
    cache, keys, counter = counted_cache(subject, kit, ttl=60)
    kit.call_each(cache.put, [(key, -1) for key in reversed(keys)])
    assert key_work(counter) <= BUDGET_PER_OP * N
    fresh = counter.keys(range(N, 2 * N))
    counter.reset()
    kit.call_each(cache.put, [(key, 0) for key in fresh])
    assert key_work(counter) <= BUDGET_PER_OP * N
    assert len(cache) == N


def test_delete_and_in_work_does_not_grow_with_size(subject, kit):
    """delete and `in` must hash and compare keys only a bounded number of times per call."""
    cache, keys, counter = counted_cache(subject, kit, ttl=60)
    found = kit.call_each(cache.__contains__, [(key,) for key in reversed(keys)])
    assert found == [True] * N
    assert key_work(counter) <= BUDGET_PER_OP * N
    counter.reset()
    deleted = kit.call_each(cache.delete, [(key,) for key in reversed(keys)])
    assert deleted == [True] * N
    assert key_work(counter) <= BUDGET_PER_OP * N


def filled(subject, kit, size):
    """A full cache of `size` int keys 0..size-1, all live for a long time."""
    cache = subject.LRUCache(size, ttl=10.0**6, clock=kit.clock(0.0))
    kit.call_each(cache.put, [(i, i) for i in range(size)])
    return cache


def best_times(kit, caches, batch):
    """The fastest of ROUNDS timed batches per cache size; `batch(size, round)` gives the
    method and argument list of one batch. Sizes alternate so load affects both alike."""
    best = dict.fromkeys(caches, math.inf)
    for round_no in range(ROUNDS):
        for size, cache in caches.items():
            method, args = batch(cache, size, round_no)
            best[size] = min(best[size], kit.timed(method, args))
    return best


def test_put_time_does_not_grow_with_size(subject, kit):
    """put into a full cache must not take longer per call as the cache grows (no O(n) scans)."""
    caches = {SMALL: filled(subject, kit, SMALL), LARGE: filled(subject, kit, LARGE)}

    def batch(cache, size, round_no):
        first = size + round_no * OPS  # new keys: every put also evicts one entry
        return cache.put, [(key, key) for key in range(first, first + OPS)]

    best = best_times(kit, caches, batch)
    assert best[LARGE] < MAX_GROWTH * best[SMALL]


def test_get_time_does_not_grow_with_size(subject, kit):
    """get must not take longer per call as the cache grows (no O(n) scans)."""
    caches = {SMALL: filled(subject, kit, SMALL), LARGE: filled(subject, kit, LARGE)}

    def batch(cache, size, round_no):
        first = round_no * OPS
        return cache.get, [(key % size,) for key in range(first, first + OPS)]

    best = best_times(kit, caches, batch)
    assert best[LARGE] < MAX_GROWTH * best[SMALL]
