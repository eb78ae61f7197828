"""Hidden tests: time-to-live, the expiry boundary, and how expired entries behave."""

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
    """An entry written at t with time-to-live d is already expired at exactly t + d (get)."""
    cache, clock = make(subject, kit, 4, ttl=10)
    cache.put("a", 1)
    clock.advance(10)
    assert cache.get("a", "expired") == "expired"


def test_expiry_boundary_holds_for_in_len_and_keys(subject, kit):
    """At exactly t + d an entry is absent for `in`, len and keys() as well."""
    cache, clock = make(subject, kit, 4, ttl=4)
    cache.put("a", 1)
    cache.put("b", 2, ttl=8)
    clock.advance(4)
    assert "a" not in cache
    assert len(cache) == 1
    assert cache.keys() == ["b"]


def test_per_entry_ttl_overrides_the_cache_ttl(subject, kit):
    """put(..., ttl=d) uses d instead of the cache's ttl, whether shorter or longer."""
    cache, clock = make(subject, kit, 4, ttl=10)
    cache.put("short", 1, ttl=2)
    cache.put("default", 2)
    cache.put("long", 3, ttl=30)
    clock.advance(2)
    assert cache.keys() == ["default", "long"]
    clock.advance(8)
    assert cache.keys() == ["long"]
    clock.advance(19.5)
    assert cache.get("long") == 3
    clock.advance(0.5)
    assert cache.get("long") is None


def test_per_entry_ttl_expires_in_a_cache_without_ttl(subject, kit):
    """In a cache with ttl=None, an entry put with its own ttl still expires."""
    cache, clock = make(subject, kit, 4)
    cache.put("a", 1, ttl=5)
    cache.put("b", 2)
    clock.advance(5)
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
    assert cache.get("a") == 2
    clock.advance(4)
    assert cache.get("a") is None


def test_put_of_a_present_key_with_a_shorter_ttl_expires_sooner(subject, kit):
    """Replacing a key with a shorter ttl makes it expire by the new ttl, not the old one."""
    cache, clock = make(subject, kit, 4)
    cache.put("a", 1, ttl=100)
    clock.advance(1)
    cache.put("a", 2, ttl=3)
    clock.advance(3)
    assert "a" not in cache
    assert cache.get("a") is None


def test_get_does_not_extend_expiry(subject, kit):
    """Reading an entry with get does not restart its time-to-live."""
    cache, clock = make(subject, kit, 4, ttl=10)
    cache.put("a", 1)
    clock.advance(8)
    assert cache.get("a") == 1
    clock.advance(2)
    assert cache.get("a") is None


def test_get_of_an_expired_entry_returns_the_default(subject, kit):
    """get of an expired entry returns the default (None when none is given)."""
    cache, clock = make(subject, kit, 4, ttl=1)
    cache.put("a", 1)
    cache.put("b", 2)
    clock.advance(1)
    assert cache.get("a", "fallback") == "fallback"
    assert cache.get("b") is None


def test_expired_entries_are_not_counted_or_listed(subject, kit):
    """len and keys() leave out expired entries."""
    cache, clock = make(subject, kit, 5, ttl=5)
    cache.put("a", 1)
    cache.put("b", 2, ttl=1)
    cache.put("c", 3)
    cache.put("d", 4, ttl=2)
    clock.advance(2)
    assert len(cache) == 2
    assert cache.keys() == ["a", "c"]


def test_in_is_false_for_an_expired_entry(subject, kit):
    """`key in cache` is False once the key's entry has expired."""
    cache, clock = make(subject, kit, 4, ttl=3)
    cache.put("a", 1)
    clock.advance(3)
    assert ("a" in cache) is False


def test_delete_of_an_expired_entry_returns_false(subject, kit):
    """delete returns False for an entry that had expired, and the key stays absent."""
    cache, clock = make(subject, kit, 4, ttl=3)
    cache.put("a", 1)
    cache.put("b", 2, ttl=10)
    clock.advance(3)
    assert cache.delete("a") is False
    assert cache.delete("b") is True
    assert len(cache) == 0


def test_expired_entry_never_causes_a_live_eviction(subject, kit):
    """An expired entry takes no place: a put evicts a live entry only when the live ones
    exceed the capacity."""
    cache, clock = make(subject, kit, 2, ttl=100)
    cache.put("a", 1)
    cache.put("b", 2, ttl=1)
    clock.advance(1)
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert cache.get("a") == 1


def test_expired_entries_free_their_places(subject, kit):
    """Once every entry has expired, a full capacity of new keys fits with no eviction."""
    cache, clock = make(subject, kit, 3, ttl=5)
    for key in "abc":
        cache.put(key, 0)
    clock.advance(5)
    for key in "xyz":
        cache.put(key, 1)
    assert cache.keys() == ["x", "y", "z"]
    assert len(cache) == 3


def test_put_on_an_expired_key_makes_a_fresh_entry(subject, kit):
    """put of a key whose entry expired stores the new value with a fresh time-to-live."""
    cache, clock = make(subject, kit, 3, ttl=5)
    cache.put("a", 1)
    cache.put("b", 2, ttl=50)
    clock.advance(5)
    cache.put("a", 3)
    clock.advance(4.5)
    assert cache.get("a") == 3
    assert cache.keys() == ["b", "a"]


def test_purge_expired_returns_how_many_it_removed(subject, kit):
    """purge_expired removes every expired entry and returns their number."""
    cache, clock = make(subject, kit, 10, ttl=5)
    for i in range(6):
        cache.put(i, i, ttl=2 if i % 2 else None)
    clock.advance(2)
    assert cache.purge_expired() == 3
    assert cache.keys() == [0, 2, 4]
    assert cache.purge_expired() == 0


def test_purge_expired_removes_expired_entries_anywhere_in_recency_order(subject, kit):
    """purge_expired also removes expired entries that are more recently used than live ones."""
    cache, clock = make(subject, kit, 4, ttl=100)
    cache.put("old-live", 1)
    cache.put("new-expired", 2, ttl=1)
    clock.advance(1)
    assert cache.purge_expired() == 1
    assert cache.keys() == ["old-live"]


def test_purge_expired_with_nothing_expired_returns_zero(subject, kit):
    """purge_expired returns 0 and keeps every entry when none has expired."""
    cache, clock = make(subject, kit, 4, ttl=10)
    cache.put("a", 1)
    cache.put("b", 2)
    clock.advance(9.5)
    assert cache.purge_expired() == 0
    assert cache.keys() == ["a", "b"]
