"""Hidden tests: constructor arguments are checked, and every valid setting gives a correct map."""

import random

import pytest

CANARY = "GRADER-CANARY-skip-list-03eb92a6eaae37be"

pytestmark = pytest.mark.category("validation")


@pytest.mark.parametrize("max_level", [0, -1, -32])
def test_max_level_below_one_is_rejected(subject, max_level):
    """max_level < 1 raises ValueError."""
    with pytest.raises(ValueError):
        subject.SkipList(max_level=max_level)


@pytest.mark.parametrize("p", [0, 0.0, -0.5])
def test_p_at_or_below_zero_is_rejected(subject, p):
    """p <= 0 raises ValueError (p must lie in the open interval (0, 1))."""
    with pytest.raises(ValueError):
        subject.SkipList(p=p)


@pytest.mark.parametrize("p", [1, 1.0, 1.5])
def test_p_at_or_above_one_is_rejected(subject, p):
    """p >= 1 raises ValueError (p must lie in the open interval (0, 1))."""
    with pytest.raises(ValueError):
        subject.SkipList(p=p)


def test_missing_numbers_are_rejected(subject):
    """A max_level or p that is not a number (None) raises ValueError or TypeError."""
    with pytest.raises((ValueError, TypeError)):
        subject.SkipList(max_level=None)
    with pytest.raises((ValueError, TypeError)):
        subject.SkipList(p=None)


def _check_is_a_correct_map(sl, kit, n):
    """Fill ``sl`` with n shuffled keys, delete a third, and compare with a sorted model."""
    keys = list(range(n))
    random.Random(n).shuffle(keys)
    kit.call_each(sl.insert, [(k, -k) for k in keys])
    assert kit.call_each(sl.delete, [(k,) for k in keys[::3]]) == [True] * len(keys[::3])
    remaining = sorted(set(keys) - set(keys[::3]))
    assert len(sl) == len(remaining)
    assert kit.collect(sl.items()) == [(k, -k) for k in remaining]
    assert kit.call_each(sl.get, [(k, "gone") for k in range(n)]) == [
        -k if k in set(remaining) else "gone" for k in range(n)
    ]
    assert kit.collect(sl.range(n // 4, n // 2)) == [
        (k, -k) for k in remaining if n // 4 <= k < n // 2
    ]


@pytest.mark.parametrize("max_level", [1, 2, 3])
def test_small_max_level_still_gives_a_correct_map(subject, kit, max_level):
    """A valid small max_level (1 included) still gives a correct sorted map with many keys."""
    _check_is_a_correct_map(subject.SkipList(max_level=max_level, seed=61), kit, 300)


@pytest.mark.parametrize("p", [0.01, 0.25, 0.9])
def test_valid_p_gives_a_correct_map(subject, kit, p):
    """Any p strictly between 0 and 1 gives a correct sorted map."""
    _check_is_a_correct_map(subject.SkipList(p=p, max_level=12, seed=62), kit, 300)
