"""Visible tests for SkipList: a few basic checks. The hidden suite goes much further."""

import pytest
from skip_list import SkipList


def test_insert_and_get():
    sl = SkipList(seed=1)
    for key in [30, 10, 20]:
        sl.insert(key, f"v{key}")
    assert sl.get(10) == "v10"
    assert sl.get(30) == "v30"
    assert sl.get(25) is None
    assert sl.get(25, "missing") == "missing"
    assert len(sl) == 3


def test_insert_existing_key_replaces_value():
    sl = SkipList(seed=2)
    sl.insert("a", 1)
    sl.insert("a", 2)
    assert sl.get("a") == 2
    assert len(sl) == 1


def test_delete_and_contains():
    sl = SkipList(seed=3)
    sl.insert(5, "five")
    assert 5 in sl
    assert sl.delete(5) is True
    assert 5 not in sl
    assert sl.delete(5) is False
    assert len(sl) == 0


def test_iteration_is_ascending():
    sl = SkipList(seed=4)
    for key in [5, 3, 9, 1, 7]:
        sl.insert(key, key * 10)
    assert list(sl) == [1, 3, 5, 7, 9]
    assert list(sl.items()) == [(1, 10), (3, 30), (5, 50), (7, 70), (9, 90)]


def test_range_is_half_open():
    sl = SkipList(seed=5)
    for key in [10, 20, 30, 40]:
        sl.insert(key, str(key))
    assert list(sl.range(20, 40)) == [(20, "20"), (30, "30")]
    assert list(sl.range(15, 16)) == []


def test_invalid_arguments_raise_value_error():
    with pytest.raises(ValueError):
        SkipList(max_level=0)
    with pytest.raises(ValueError):
        SkipList(p=0)
    with pytest.raises(ValueError):
        SkipList(p=1)
