"""Hidden tests: the basic behaviour of get, put, delete, len, in and keys."""

import pytest

CANARY = "GRADER-CANARY-lru-cache-612281109267e324"

pytestmark = pytest.mark.category("basics")


def make(subject, kit, capacity, ttl=None):
    """A cache on a fake clock, with the clock."""
    clock = kit.clock(1000.0)
    return subject.LRUCache(capacity, ttl=ttl, clock=clock), clock


def test_get_returns_the_stored_value(subject, kit):
    """Each get returns the value that put stored for its key."""
    cache, _ = make(subject, kit, 4)
    cache.put("a", 1)
    cache.put("b", [2, 3])
    cache.put(7, "seven")
    assert cache.get("a") == 1
    assert cache.get("b") == [2, 3]
    assert cache.get(7) == "seven"


def test_get_of_a_missing_key_returns_the_default(subject, kit):
    """A get of a key that was never stored returns the given default, or None without one."""
    cache, _ = make(subject, kit, 4)
    cache.put("a", 1)
    assert cache.get("b") is None
    assert cache.get("b", "fallback") == "fallback"
    assert cache.get("c", 0) == 0


def test_none_is_a_storable_value(subject, kit):
    """A stored value of None is a real entry: get returns it rather than the default."""
    cache, _ = make(subject, kit, 4)
    cache.put("a", None)
    assert cache.get("a", "fallback") is None
    assert "a" in cache
    assert len(cache) == 1


def test_put_returns_none(subject, kit):
    """A put returns None, for a new key and for a replaced one."""
    cache, _ = make(subject, kit, 4)
    assert cache.put("a", 1) is None
    assert cache.put("a", 2) is None


def test_put_replaces_the_value_of_a_present_key(subject, kit):
    """A put of a present key replaces its value without adding a second entry."""
    cache, _ = make(subject, kit, 4)
    cache.put("a", 1)
    cache.put("a", 2)
    assert cache.get("a") == 2
    assert len(cache) == 1
    assert cache.keys() == ["a"]


def test_len_counts_the_entries(subject, kit):
    """The length of a cache is the number of entries it holds, and a new cache is empty."""
    cache, _ = make(subject, kit, 10)
    assert len(cache) == 0
    assert cache.keys() == []
    for i in range(5):
        cache.put(i, i * i)
    assert len(cache) == 5


def test_in_tells_whether_a_key_is_present(subject, kit):
    """The `in` test is True for stored keys and False for others."""
    cache, _ = make(subject, kit, 4)
    cache.put("a", 1)
    cache.put(("t", 1), 2)
    assert "a" in cache
    assert ("t", 1) in cache
    assert "b" not in cache


def test_delete_removes_a_present_key_and_returns_true(subject, kit):
    """Deleting a present key returns True, and the key is gone afterwards."""
    cache, _ = make(subject, kit, 4)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.delete("a") is True
    assert "a" not in cache
    assert cache.get("a") is None
    assert cache.keys() == ["b"]
    assert len(cache) == 1


def test_delete_of_a_missing_key_returns_false(subject, kit):
    """Deleting an absent key (never stored, or already deleted) returns False."""
    cache, _ = make(subject, kit, 4)
    cache.put("a", 1)
    assert cache.delete("b") is False
    assert cache.delete("a") is True
    assert cache.delete("a") is False
    assert len(cache) == 0


def test_works_with_the_default_clock(subject, kit):
    """Without a clock argument the cache uses the real monotonic clock."""
    cache = subject.LRUCache(2, ttl=3600)
    cache.put("a", 1)
    cache.put("b", 2, ttl=3600)
    assert cache.get("a") == 1
    assert sorted(cache.keys()) == ["a", "b"]
