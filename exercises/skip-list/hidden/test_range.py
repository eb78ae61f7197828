"""Hidden tests: range(lo, hi) yields the pairs with lo <= key < hi, ascending."""

import random

import pytest

CANARY = "GRADER-CANARY-skip-list-03eb92a6eaae37be"

pytestmark = pytest.mark.category("range")


def _tens(subject, kit, seed):
    """A list holding 10, 20, ..., 100 with values 'v10', 'v20', ..."""
    sl = subject.SkipList(seed=seed)
    kit.call_each(sl.insert, [(k, f"v{k}") for k in range(100, 0, -10)])
    return sl


def test_range_includes_lo_and_excludes_hi(subject, kit):
    """A range is half-open: a key equal to lo is included, a key equal to hi is not."""
    sl = _tens(subject, kit, 41)
    assert kit.collect(sl.range(30, 60)) == [(30, "v30"), (40, "v40"), (50, "v50")]


def test_range_with_bounds_absent_from_the_list(subject, kit):
    """Bounds need not be stored keys: the pairs strictly inside are returned, ascending."""
    sl = _tens(subject, kit, 42)
    assert kit.collect(sl.range(25, 65)) == [(30, "v30"), (40, "v40"), (50, "v50"), (60, "v60")]
    assert kit.collect(sl.range(31, 39)) == []


def test_range_of_a_single_key(subject, kit):
    """A range from a stored key up to the next stored key holds exactly the first of them."""
    sl = _tens(subject, kit, 43)
    assert kit.collect(sl.range(10, 20)) == [(10, "v10")]
    assert kit.collect(sl.range(100, 101)) == [(100, "v100")]


def test_range_covering_all_keys(subject, kit):
    """A range wider than all stored keys yields every pair, ascending."""
    sl = _tens(subject, kit, 44)
    expected = [(k, f"v{k}") for k in range(10, 101, 10)]
    assert kit.collect(sl.range(-1000, 1000)) == expected
    assert kit.collect(sl.range(10, 101)) == expected


def test_range_with_lo_equal_to_hi_is_empty(subject, kit):
    """A range whose two bounds are equal is empty, even when the bound is a stored key."""
    sl = _tens(subject, kit, 45)
    assert kit.collect(sl.range(50, 50)) == []
    assert kit.collect(sl.range(55, 55)) == []


def test_range_with_lo_above_hi_is_empty(subject, kit):
    """A range whose lower bound is above its upper bound is empty."""
    sl = _tens(subject, kit, 46)
    assert kit.collect(sl.range(70, 30)) == []
    assert kit.collect(sl.range(100, 10)) == []


def test_range_outside_the_stored_keys_is_empty(subject, kit):
    """A range entirely below or entirely above the stored keys is empty."""
    sl = _tens(subject, kit, 47)
    assert kit.collect(sl.range(-50, 10)) == []
    assert kit.collect(sl.range(101, 500)) == []


def test_range_on_an_empty_list_is_empty(subject, kit):
    """A range over an empty list yields nothing."""
    sl = subject.SkipList(seed=48)
    assert kit.collect(sl.range(0, 100)) == []


def test_range_with_string_keys(subject, kit):
    """A range works for any comparable keys, such as strings in lexicographic order."""
    sl = subject.SkipList(seed=49)
    words = ["delta", "alpha", "echo", "charlie", "bravo", "foxtrot"]
    kit.call_each(sl.insert, [(w, w.upper()) for w in words])
    assert kit.collect(sl.range("b", "e")) == [
        ("bravo", "BRAVO"),
        ("charlie", "CHARLIE"),
        ("delta", "DELTA"),
    ]
    assert kit.collect(sl.range("alpha", "charlie")) == [("alpha", "ALPHA"), ("bravo", "BRAVO")]


def test_range_skips_deleted_keys_and_shows_new_values(subject, kit):
    """A range reflects deletes and replaced values."""
    sl = _tens(subject, kit, 50)
    sl.delete(40)
    sl.delete(10)
    sl.insert(50, "new")
    sl.insert(45, "v45")
    assert kit.collect(sl.range(10, 60)) == [(20, "v20"), (30, "v30"), (45, "v45"), (50, "new")]


def test_random_ranges_match_a_sorted_model(subject, kit):
    """For many random bounds, range returns exactly the stored pairs with lo <= key < hi."""
    rng = random.Random(7)
    keys = rng.sample(range(1000), 250)
    sl = subject.SkipList(seed=51)
    kit.call_each(sl.insert, [(k, k * 3) for k in keys])
    ordered = sorted(keys)
    for _ in range(60):
        lo = rng.randrange(-20, 1020)
        hi = lo + rng.randrange(-5, 120)
        expected = [(k, k * 3) for k in ordered if lo <= k < hi]
        assert kit.collect(sl.range(lo, hi)) == expected
