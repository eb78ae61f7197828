"""Hidden tests: time-to-live, the expiry boundary, and how expired entries behave.

Only the tests named for the boundary look at the exact instant t + d; every other test reads
the clock at least a fraction of a second away from any entry's expiry, so that each test
checks its own rule. Keys are compared as sorted lists where recency is not the point.
"""

import random

import pytest

CANARY = "GRADER-CANARY-lru-cache-612281109267e324"

pytestmark = pytest.mark.category("expiry")


def make(subject, kit, capacity, ttl=None):
    """A cache on a fake clock starting at 1000 s, with the clock."""
    clock = kit.clock(1000.0)
    return subject.LRUCache(capacity, ttl=ttl, clock=clock), clock


def test_entry_is_live_until_just_before_its_ttl_elapses(subject, kit):
    """An entry stays live while less than its time-to-live has passed since it was written."""
    cache, clock = make(subject, kit, 4, ttl=10)
    cache.put("a", 1)
    clock.advance(9.75)
    assert cache.get("a") == 1
    assert "a" in cache
    assert cache.keys() == ["a"]


def test_entry_is_expired_exactly_when_its_ttl_elapses(subject, kit):
    """An entry written at t with time-to-live d is already expired for get and `in` at
    exactly t + d."""
    cache, clock = make(subject, kit, 4, ttl=10)
    cache.put("a", 1)
    cache.put("b", 2)
    clock.advance(10)
    assert cache.get("a", "expired") == "expired"
    assert ("b" in cache) is False


def test_expiry_boundary_holds_for_len_and_keys(subject, kit):
    """At exactly t + d an entry is left out by len and keys() as well."""
    cache, clock = make(subject, kit, 4, ttl=4)
    cache.put("a", 1)
    cache.put("b", 2, ttl=8)
    clock.advance(4)
    assert len(cache) == 1
    assert cache.keys() == ["b"]


def test_expiry_boundary_holds_for_delete_purge_and_capacity(subject, kit):
    """At exactly t + d an entry is expired for delete, purge_expired and the capacity too:
    delete returns False, purge_expired counts it, and it takes no place in the cache."""
    cache, clock = make(subject, kit, 3, ttl=100)
    other = subject.LRUCache(3, ttl=100, clock=clock)
    cache.put("a", 1, ttl=3)
    cache.put("b", 2, ttl=3)
    cache.put("live", 3)
    other.put("x", 4, ttl=3)
    clock.advance(3)
    assert cache.purge_expired() == 2
    assert other.delete("x") is False
    cache.put("c", 5, ttl=3)
    cache.put("d", 6, ttl=3)
    clock.advance(3)
    cache.put("e", 7)
    assert sorted(cache.keys()) == ["e", "live"]


def test_per_entry_ttl_overrides_the_cache_ttl(subject, kit):
    """A put with its own ttl uses it instead of the cache's ttl, whether shorter or longer."""
    cache, clock = make(subject, kit, 4, ttl=10)
    cache.put("short", 1, ttl=2)
    cache.put("default", 2)
    cache.put("long", 3, ttl=30)
    clock.advance(2.5)
    assert sorted(cache.keys()) == ["default", "long"]
    clock.advance(8)
    assert cache.keys() == ["long"]
    clock.advance(19)
    assert "long" in cache
    clock.advance(1)
    assert cache.get("long") is None


def test_per_entry_ttl_expires_in_a_cache_without_ttl(subject, kit):
    """In a cache with ttl=None, an entry put with its own ttl still expires."""
    cache, clock = make(subject, kit, 4)
    cache.put("a", 1, ttl=5)
    cache.put("b", 2)
    clock.advance(5.5)
    assert cache.get("a") is None
    assert cache.keys() == ["b"]


def test_entries_without_any_ttl_never_expire(subject, kit):
    """With no ttl on the cache nor on put, entries stay live however much time passes."""
    cache, clock = make(subject, kit, 4)
    cache.put("a", 1)
    clock.advance(10.0**9)
    assert cache.get("a") == 1
    assert cache.purge_expired() == 0
    assert len(cache) == 1


def test_put_of_a_present_key_restarts_its_expiry(subject, kit):
    """Replacing a key with put restarts its time-to-live from the time of that put."""
    cache, clock = make(subject, kit, 4, ttl=10)
    cache.put("a", 1)
    clock.advance(6)
    cache.put("a", 2)
    clock.advance(6)
    assert "a" in cache
    clock.advance(4.5)
    assert cache.get("a") is None


def test_put_of_a_present_key_with_a_shorter_ttl_expires_sooner(subject, kit):
    """Replacing a key with a shorter ttl makes it expire by the new ttl, not the old one."""
    cache, clock = make(subject, kit, 4)
    cache.put("a", 1, ttl=100)
    clock.advance(1)
    cache.put("a", 2, ttl=3)
    clock.advance(3.5)
    assert "a" not in cache
    assert cache.get("a") is None


def test_get_does_not_extend_expiry(subject, kit):
    """Reading an entry with get does not restart its time-to-live."""
    cache, clock = make(subject, kit, 4, ttl=10)
    cache.put("a", 1)
    clock.advance(8)
    assert cache.get("a") == 1
    clock.advance(2.5)
    assert cache.get("a") is None


def test_get_of_an_expired_entry_returns_the_default(subject, kit):
    """A get of an expired entry returns the default, or None when no default is given."""
    cache, clock = make(subject, kit, 4, ttl=1)
    cache.put("a", 1)
    cache.put("b", 2)
    clock.advance(1.5)
    assert cache.get("a", "fallback") == "fallback"
    assert cache.get("b") is None


def test_expired_entries_are_not_counted_or_listed(subject, kit):
    """The count from len and the list from keys() leave out expired entries."""
    cache, clock = make(subject, kit, 5, ttl=5)
    cache.put("a", 1)
    cache.put("b", 2, ttl=1)
    cache.put("c", 3)
    cache.put("d", 4, ttl=2)
    clock.advance(2.5)
    assert len(cache) == 2
    assert sorted(cache.keys()) == ["a", "c"]


def test_in_is_false_for_an_expired_entry(subject, kit):
    """The `in` test is False once the key's entry has expired."""
    cache, clock = make(subject, kit, 4, ttl=3)
    cache.put("a", 1)
    clock.advance(3.5)
    assert ("a" in cache) is False


def test_delete_of_an_expired_entry_returns_false(subject, kit):
    """Deleting an entry that had expired returns False, and the key stays absent."""
    cache, clock = make(subject, kit, 4, ttl=3)
    cache.put("a", 1)
    cache.put("b", 2, ttl=10)
    clock.advance(3.5)
    assert cache.delete("a") is False
    assert "a" not in cache
    assert cache.delete("b") is True
    assert len(cache) == 0


def test_expired_entry_never_causes_a_live_eviction(subject, kit):
    """An expired entry takes no place: a put evicts a live entry only when the live ones
    exceed the capacity."""
    cache, clock = make(subject, kit, 2, ttl=100)
    cache.put("a", 1)
    cache.put("b", 2, ttl=1)
    clock.advance(1.5)
    cache.put("c", 3)
    assert sorted(cache.keys()) == ["a", "c"]
    assert cache.get("a") == 1


def test_expired_entries_free_their_places(subject, kit):
    """Once every entry has expired, a full capacity of new keys fits with no eviction."""
    cache, clock = make(subject, kit, 3, ttl=5)
    for key in "abc":
        cache.put(key, 0)
    clock.advance(5.5)
    for key in "xyz":
        cache.put(key, 1)
    assert sorted(cache.keys()) == ["x", "y", "z"]
    assert len(cache) == 3


def test_put_on_an_expired_key_makes_a_fresh_entry(subject, kit):
    """A put of a key whose entry expired stores the new value with a fresh time-to-live."""
    cache, clock = make(subject, kit, 3, ttl=5)
    cache.put("a", 1)
    cache.put("b", 2, ttl=50)
    clock.advance(5.5)
    cache.put("a", 3)
    clock.advance(4.5)
    assert cache.get("a") == 3
    assert sorted(cache.keys()) == ["a", "b"]


def test_purge_expired_returns_how_many_it_removed(subject, kit):
    """The purge_expired method removes every expired entry and returns their number."""
    cache, clock = make(subject, kit, 10, ttl=5)
    for i in range(6):
        cache.put(i, i, ttl=2 if i % 2 else None)
    clock.advance(2.5)
    assert cache.purge_expired() == 3
    assert sorted(cache.keys()) == [0, 2, 4]
    assert cache.purge_expired() == 0


def test_purge_expired_removes_expired_entries_anywhere_in_recency_order(subject, kit):
    """The purge_expired method also removes expired entries that are more recently used than
    live ones."""
    cache, clock = make(subject, kit, 4, ttl=100)
    cache.put("old-live", 1)
    cache.put("new-expired", 2, ttl=1)
    clock.advance(1.5)
    assert cache.purge_expired() == 1
    assert cache.keys() == ["old-live"]


def test_purge_expired_with_nothing_expired_returns_zero(subject, kit):
    """The purge_expired method returns 0 and keeps every entry when none has expired."""
    cache, clock = make(subject, kit, 4, ttl=10)
    cache.put("a", 1)
    cache.put("b", 2)
    clock.advance(9.5)
    assert cache.purge_expired() == 0
    assert sorted(cache.keys()) == ["a", "b"]


def test_expired_entries_leave_len_and_keys_whatever_order_they_expire_in(subject, kit):
    """The count from len and the list from keys() leave out every expired entry, whatever
    order the expiry times were set in and however often the keys were replaced."""
    cache, clock = make(subject, kit, 32)
    rng = random.Random(2024)
    expiring = [f"k{i:02}" for i in range(20)]
    # Every expiring key is written three times at the same instant, each time with another
    # time-to-live (whole seconds, shuffled); the last write counts. Four keys never expire.
    writes = []
    for round_no in range(3):
        ttls = list(range(1, 21))
        rng.shuffle(ttls)
        batch = list(zip(expiring, ttls, strict=True))
        if round_no == 0:
            batch += [(f"forever-{i}", None) for i in range(4)]
        rng.shuffle(batch)
        writes += batch
    final_ttl = dict(writes)
    calls = [(cache.put, (key, ttl), {} if ttl is None else {"ttl": ttl}) for key, ttl in writes]
    calls.append((clock.advance, (0.5,)))
    checks = []  # (index of the len call, the live keys then)
    for elapsed in range(21):  # half-way between two expiry times, never on one
        live = sorted(k for k, ttl in final_ttl.items() if ttl is None or ttl > elapsed + 0.5)
        checks.append((len(calls), live))
        calls += [(cache.__len__, ()), (cache.keys, ()), (clock.advance, (1,))]
    outcomes = kit.run_calls(calls)
    for index, outcome in enumerate(outcomes):
        assert outcome[0] == "return", f"call {index}: {outcome}"
    for index, live in checks:
        assert outcomes[index][1] == len(live), f"len, call {index}"
        assert sorted(outcomes[index + 1][1]) == live, f"keys, call {index + 1}"
