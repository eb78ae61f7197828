"""A few basic tests of LRUCache; the hidden suite checks much more (see README.md)."""

import pytest
from lru_cache import LRUCache


class FakeClock:
    """A clock that only moves when the test says so."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_put_then_get() -> None:
    cache = LRUCache(2)
    cache.put("a", 1)
    assert cache.get("a") == 1
    assert cache.get("missing") is None
    assert cache.get("missing", "default") == "default"


def test_evicts_least_recently_used() -> None:
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")  # "b" is now the least recently used
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert "b" not in cache
    assert len(cache) == 2


def test_entry_expires_after_ttl() -> None:
    clock = FakeClock(100.0)
    cache = LRUCache(4, ttl=10, clock=clock)
    cache.put("a", 1)
    clock.advance(9.5)
    assert cache.get("a") == 1
    clock.advance(0.5)  # exactly 10 seconds after the write: expired
    assert cache.get("a") is None
    assert "a" not in cache


def test_per_entry_ttl_overrides_cache_ttl() -> None:
    clock = FakeClock()
    cache = LRUCache(4, ttl=10, clock=clock)
    cache.put("short", 1, ttl=2)
    cache.put("long", 2)
    clock.advance(2)
    assert cache.keys() == ["long"]


def test_delete_and_purge() -> None:
    clock = FakeClock()
    cache = LRUCache(4, clock=clock)
    cache.put("a", 1, ttl=1)
    cache.put("b", 2)
    assert cache.delete("b") is True
    assert cache.delete("b") is False
    clock.advance(1)
    assert cache.purge_expired() == 1
    assert len(cache) == 0


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        LRUCache(0)
    with pytest.raises(ValueError):
        LRUCache(1, ttl=0)
    cache = LRUCache(1)
    with pytest.raises(ValueError):
        cache.put("a", 1, ttl=-1)
