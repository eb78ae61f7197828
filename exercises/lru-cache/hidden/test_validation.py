"""Hidden tests: invalid capacities and time-to-lives are rejected."""

import pytest

CANARY = "GRADER-CANARY-lru-cache-612281109267e324"

pytestmark = pytest.mark.category("validation")


def test_capacity_zero_is_rejected(subject, kit):
    """A capacity of 0 raises ValueError."""
    with pytest.raises(ValueError):
        subject.LRUCache(0, clock=kit.clock())


def test_negative_capacity_is_rejected(subject, kit):
    """A negative capacity raises ValueError."""
    with pytest.raises(ValueError):
        subject.LRUCache(-3, clock=kit.clock())


def test_non_integer_capacity_is_rejected(subject, kit):
    """A capacity that is not an int (a float or a string) raises ValueError or TypeError."""
    with pytest.raises((ValueError, TypeError)):
        subject.LRUCache(2.5, clock=kit.clock())
    with pytest.raises((ValueError, TypeError)):
        subject.LRUCache("3", clock=kit.clock())


def test_cache_ttl_not_positive_is_rejected(subject, kit):
    """A cache ttl of zero or less raises ValueError."""
    for ttl in [0, 0.0, -1, -0.5]:
        with pytest.raises(ValueError):
            subject.LRUCache(4, ttl=ttl, clock=kit.clock())


def test_non_numeric_cache_ttl_is_rejected(subject, kit):
    """A cache ttl that is not a number raises ValueError or TypeError."""
    with pytest.raises((ValueError, TypeError)):
        subject.LRUCache(4, ttl="10", clock=kit.clock())


def test_put_ttl_not_positive_is_rejected(subject, kit):
    """A put with a ttl of zero or less raises ValueError."""
    cache = subject.LRUCache(4, ttl=10, clock=kit.clock())
    for ttl in [0, 0.0, -2, -0.25]:
        with pytest.raises(ValueError):
            cache.put("a", 1, ttl=ttl)


def test_put_with_non_numeric_ttl_is_rejected(subject, kit):
    """A put with a ttl that is not a number raises ValueError or TypeError."""
    cache = subject.LRUCache(4, clock=kit.clock())
    with pytest.raises((ValueError, TypeError)):
        cache.put("a", 1, ttl="5")


def test_rejected_put_changes_nothing(subject, kit):
    """A put rejected for its ttl neither stores, replaces nor evicts anything."""
    cache = subject.LRUCache(2, ttl=10, clock=kit.clock())
    cache.put("a", 1)
    cache.put("b", 2)
    with pytest.raises(ValueError):
        cache.put("a", 99, ttl=-1)
    with pytest.raises(ValueError):
        cache.put("c", 3, ttl=-0.5)
    assert "c" not in cache
    assert len(cache) == 2
    assert cache.get("a") == 1
    assert cache.get("b") == 2


def test_smallest_valid_arguments_are_accepted(subject, kit):
    """A capacity of 1 and small fractional time-to-lives are valid and work."""
    clock = kit.clock(1000.0)
    one = subject.LRUCache(1, ttl=0.5, clock=clock)
    one.put("a", 1)
    other = subject.LRUCache(4, ttl=0.25, clock=clock)
    other.put("b", 2)
    other.put("c", 3, ttl=0.125)
    assert "a" in one
    assert "b" in other
    assert "c" in other
    clock.advance(0.375)
    assert "a" in one
    assert "b" not in other
