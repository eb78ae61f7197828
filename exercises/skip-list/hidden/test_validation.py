"""Hidden tests: constructor arguments are checked, and every valid setting gives a correct map."""

import random

import pytest

CANARY = "GRADER-CANARY-skip-list-03eb92a6eaae37be"

pytestmark = pytest.mark.category("validation")


@pytest.mark.parametrize("max_level", [0, -1, -32])
def test_max_level_below_one_is_rejected(subject, max_level):
    """A max_level below 1 raises ValueError."""
    with pytest.raises(ValueError):
        subject.SkipList(max_level=max_level)


@pytest.mark.parametrize("p", [0, 0.0, -0.5])
def test_p_at_or_below_zero_is_rejected(subject, p):
    """A p of zero or less raises ValueError, since p must lie in the open interval (0, 1)."""
    with pytest.raises(ValueError):
        subject.SkipList(p=p)


@pytest.mark.parametrize("p", [1, 1.0, 1.5])
def test_p_at_or_above_one_is_rejected(subject, p):
    """A p of one or more raises ValueError, since p must lie in the open interval (0, 1)."""
    with pytest.raises(ValueError):
        subject.SkipList(p=p)


def test_missing_numbers_are_rejected(subject):
    """A max_level or p that is not a number (None) raises ValueError or TypeError."""
    with pytest.raises((ValueError, TypeError)):
        subject.SkipList(max_level=None)
    with pytest.raises((ValueError, TypeError)):
        subject.SkipList(p=None)


def _check_is_a_correct_map(sl, kit, n):
    """Fill ``sl`` with n shuffled keys, delete a third, and compare with a sorted model.

    Lookups use get without a default and the range's bounds fall between stored keys, so
    that a slip in get's default or at a range bound fails the tests of those rules, not these.
    """
    keys = list(range(n))
    random.Random(n).shuffle(keys)
    kit.call_each(sl.insert, [(k, -k) for k in keys])
    assert kit.call_each(sl.delete, [(k,) for k in keys[::3]]) == [True] * len(keys[::3])
    remaining = sorted(set(keys) - set(keys[::3]))
    assert len(sl) == len(remaining)
    assert kit.collect(sl.items()) == [(k, -k) for k in remaining]
    kept = set(remaining)
    assert kit.call_each(sl.get, [(k,) for k in range(n)]) == [
        -k if k in kept else None for k in range(n)
    ]
    lo, hi = n // 4 + 0.5, n // 2 + 0.5
    assert kit.collect(sl.range(lo, hi)) == [(k, -k) for k in remaining if lo <= k < hi]


@pytest.mark.parametrize("max_level", [1, 2, 3])
def test_small_max_level_still_gives_a_correct_map(subject, kit, max_level):
    """A valid small max_level (1 included) still gives a correct sorted map with many keys."""
    _check_is_a_correct_map(subject.SkipList(max_level=max_level, seed=61), kit, 300)


@pytest.mark.parametrize("max_level", [1, 2])
def test_small_max_level_list_can_be_emptied_and_filled_again(subject, kit, max_level):
    """A list with a valid small max_level (1 included) can be emptied by deletes and then
    filled again."""
    sl = subject.SkipList(max_level=max_level, seed=63)
    for round_no in range(3):
        keys = [5, 1, 3] if round_no % 2 else [2]
        kit.call_each(sl.insert, [(k, round_no) for k in keys])
        assert kit.call_each(sl.delete, [(k,) for k in sorted(keys)]) == [True] * len(keys)
        assert len(sl) == 0
        assert kit.collect(sl) == []
    sl.insert(4, "four")
    assert kit.collect(sl.items()) == [(4, "four")]


@pytest.mark.parametrize("p", [0.01, 0.25, 0.9])
def test_valid_p_gives_a_correct_map(subject, kit, p):
    """Any p strictly between 0 and 1 gives a correct sorted map."""
    _check_is_a_correct_map(subject.SkipList(p=p, max_level=12, seed=62), kit, 300)
