"""Hidden tests: least-recently-used eviction and recency order (no expiry involved)."""

import pytest

CANARY = "GRADER-CANARY-lru-cache-612281109267e324"

pytestmark = pytest.mark.category("eviction")


def make(subject, kit, capacity, ttl=None):
    """A cache on a fake clock, with the clock."""
    clock = kit.clock(1000.0)
    return subject.LRUCache(capacity, ttl=ttl, clock=clock), clock


def test_full_cache_evicts_the_least_recently_written_entry(subject, kit):
    """Putting a new key into a full cache evicts the least recently used entry, only that one."""
    cache, _ = make(subject, kit, 3)
    for key in "abc":
        cache.put(key, key.upper())
    cache.put("d", "D")
    assert "a" not in cache
    assert cache.get("a") is None
    assert cache.get("b") == "B"
    assert cache.get("c") == "C"
    assert cache.get("d") == "D"
    assert len(cache) == 3


def test_many_puts_keep_the_most_recent_capacity_keys(subject, kit):
    """After many puts of new keys, exactly the last `capacity` keys remain, oldest first."""
    cache, _ = make(subject, kit, 10)
    kit.call_each(cache.put, [(i, -i) for i in range(100)])
    assert len(cache) == 10
    assert cache.keys() == list(range(90, 100))


def test_get_makes_an_entry_most_recently_used(subject, kit):
    """A get of a live entry makes it the most recently used, so it is evicted after the
    others."""
    cache, _ = make(subject, kit, 3)
    for key in "abc":
        cache.put(key, 0)
    assert cache.get("a") == 0
    assert cache.keys() == ["b", "c", "a"]
    cache.put("d", 0)
    assert "b" not in cache
    assert "a" in cache


def test_put_of_a_present_key_makes_it_most_recently_used(subject, kit):
    """Replacing a present key with put makes it the most recently used."""
    cache, _ = make(subject, kit, 3)
    for key in "abc":
        cache.put(key, 0)
    cache.put("a", 1)
    assert cache.keys() == ["b", "c", "a"]
    cache.put("d", 0)
    assert "b" not in cache
    assert cache.get("a") == 1


def test_replacing_a_key_in_a_full_cache_evicts_nothing(subject, kit):
    """Replacing a present key when the cache is full keeps every other entry."""
    cache, _ = make(subject, kit, 3)
    for key in "abc":
        cache.put(key, 0)
    cache.put("b", 1)
    assert len(cache) == 3
    assert cache.keys() == ["a", "c", "b"]


def test_keys_lists_least_recently_used_first(subject, kit):
    """The list from keys() runs from the least to the most recently used key."""
    cache, _ = make(subject, kit, 5)
    for key in [3, 1, 4, 5, 9]:
        cache.put(key, str(key))
    cache.get(1)
    cache.put(4, "four")
    assert cache.keys() == [3, 5, 9, 1, 4]


def test_in_does_not_change_recency(subject, kit):
    """Testing a key with `in` does not make it more recently used."""
    cache, _ = make(subject, kit, 3)
    for key in "abc":
        cache.put(key, 0)
    assert "a" in cache
    assert cache.keys() == ["a", "b", "c"]
    cache.put("d", 0)
    assert "a" not in cache
    assert "d" in cache


def test_keys_does_not_change_recency(subject, kit):
    """Listing the keys does not change which entry is least recently used."""
    cache, _ = make(subject, kit, 3)
    for key in "abc":
        cache.put(key, 0)
    cache.get("a")
    assert cache.keys() == ["b", "c", "a"]
    assert cache.keys() == ["b", "c", "a"]
    cache.put("d", 0)
    assert "b" not in cache
    assert "a" in cache


def test_get_of_a_missing_key_changes_nothing(subject, kit):
    """A get that finds nothing neither adds an entry nor changes the order."""
    cache, _ = make(subject, kit, 2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("z", "default") == "default"
    assert "z" not in cache
    assert len(cache) == 2
    assert cache.keys() == ["a", "b"]


def test_capacity_one_keeps_only_the_latest_key(subject, kit):
    """A cache of capacity 1 holds only the last key written."""
    cache, _ = make(subject, kit, 1)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.keys() == ["b"]
    assert cache.get("a") is None
    cache.put("b", 3)
    assert cache.get("b") == 3
    assert len(cache) == 1


def test_deleted_entry_frees_its_place(subject, kit):
    """After a delete, a new key fits without evicting anything."""
    cache, _ = make(subject, kit, 3)
    for key in "abc":
        cache.put(key, 0)
    assert cache.delete("b") is True
    cache.put("d", 0)
    assert cache.keys() == ["a", "c", "d"]


def test_rejected_put_does_not_change_recency(subject, kit):
    """A put rejected for its ttl does not make its key the most recently used."""
    cache, _ = make(subject, kit, 3, ttl=10)
    for key in "abc":
        cache.put(key, 0)
    with pytest.raises(ValueError):
        cache.put("a", 99, ttl=-1)
    assert cache.keys() == ["a", "b", "c"]
