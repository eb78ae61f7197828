"""Hidden tests: the map operations insert, get, delete, in and len."""

import pytest

CANARY = "GRADER-CANARY-skip-list-03eb92a6eaae37be"

pytestmark = pytest.mark.category("basics")


def test_empty_list_holds_nothing(subject, kit):
    """A new skip list is empty: len 0, no keys, get gives the default, delete gives False."""
    sl = subject.SkipList(seed=1)
    assert len(sl) == 0
    assert kit.collect(sl) == []
    assert kit.collect(sl.items()) == []
    assert sl.get(5) is None
    assert (5 in sl) is False
    assert sl.delete(5) is False


def test_default_and_keyword_construction(subject):
    """SkipList() with all defaults, seed=None, and explicit keyword arguments all work."""
    for sl in (
        subject.SkipList(),
        subject.SkipList(seed=None),
        subject.SkipList(max_level=8, p=0.25, seed=3),
    ):
        sl.insert(2, "two")
        sl.insert(1, "one")
        assert sl.get(1) == "one"
        assert sl.get(2) == "two"
        assert len(sl) == 2


def test_insert_then_get_returns_the_value(subject, kit):
    """A get returns the value stored by insert, for every key."""
    sl = subject.SkipList(seed=2)
    pairs = [(k, f"v{k}") for k in (50, 10, 40, 20, 30)]
    kit.call_each(sl.insert, pairs)
    assert kit.call_each(sl.get, [(k,) for k, _ in pairs]) == [v for _, v in pairs]
    assert len(sl) == 5


def test_get_absent_key_returns_default(subject, kit):
    """A get of an absent key (below, between or above the stored keys) returns the default."""
    sl = subject.SkipList(seed=3)
    kit.call_each(sl.insert, [(k, k * 10) for k in (10, 20, 30)])
    assert kit.call_each(sl.get, [(k,) for k in (5, 15, 25, 35)]) == [None] * 4
    assert kit.call_each(sl.get, [(k, "dflt") for k in (5, 15, 25, 35)]) == ["dflt"] * 4
    assert sl.get(20, "dflt") == 200


def test_insert_without_value_stores_none(subject):
    """An insert without a value stores None: the key is present and get returns None, not the
    default."""
    sl = subject.SkipList(seed=4)
    sl.insert("k")
    assert "k" in sl
    assert len(sl) == 1
    assert sl.get("k", "dflt") is None


def test_falsy_values_are_returned_as_stored(subject, kit):
    """Stored values that are falsy (0, empty string, False, empty list) are returned as stored."""
    sl = subject.SkipList(seed=5)
    pairs = [(1, 0), (2, ""), (3, False), (4, []), (5, 0.0)]
    kit.call_each(sl.insert, pairs)
    got = kit.call_each(sl.get, [(k, "dflt") for k, _ in pairs])
    assert got == [v for _, v in pairs]
    assert [type(v) for v in got] == [type(v) for _, v in pairs]


def test_insert_existing_key_replaces_value(subject):
    """Inserting a key that is present replaces its value and does not add an entry."""
    sl = subject.SkipList(seed=6)
    sl.insert(1, "a")
    sl.insert(2, "b")
    sl.insert(1, "c")
    assert sl.get(1) == "c"
    assert sl.get(2) == "b"
    assert len(sl) == 2


def test_delete_present_key_returns_true_and_removes_it(subject, kit):
    """Deleting a present key returns True; afterwards the key is absent and len shrinks."""
    sl = subject.SkipList(seed=7)
    kit.call_each(sl.insert, [(k, k) for k in (3, 1, 2)])
    assert sl.delete(2) is True
    assert (2 in sl) is False
    assert sl.get(2, "gone") == "gone"
    assert len(sl) == 2
    assert sl.get(1) == 1
    assert sl.get(3) == 3


def test_delete_absent_key_returns_false_and_changes_nothing(subject, kit):
    """Deleting an absent key returns False and leaves the list unchanged."""
    sl = subject.SkipList(seed=8)
    kit.call_each(sl.insert, [(k, -k) for k in (10, 20, 30)])
    assert kit.call_each(sl.delete, [(k,) for k in (5, 15, 25, 35)]) == [False] * 4
    assert len(sl) == 3
    assert kit.collect(sl.items()) == [(10, -10), (20, -20), (30, -30)]


def test_second_delete_of_same_key_returns_false(subject):
    """Deleting a key twice returns True the first time and False the second."""
    sl = subject.SkipList(seed=9)
    sl.insert(1, "x")
    assert sl.delete(1) is True
    assert sl.delete(1) is False
    assert len(sl) == 0


def test_first_and_last_keys_are_found(subject, kit):
    """The smallest and the largest key are found by get and in like any other."""
    sl = subject.SkipList(seed=10)
    kit.call_each(sl.insert, [(k, k * k) for k in range(100, 0, -1)])
    assert sl.get(1) == 1
    assert sl.get(100) == 10000
    assert 1 in sl
    assert 100 in sl
    assert (0 in sl) is False
    assert (101 in sl) is False


def test_contains_reports_presence(subject, kit):
    """The `in` test is True exactly for the keys currently stored."""
    sl = subject.SkipList(seed=11)
    kit.call_each(sl.insert, [(k, None) for k in range(0, 40, 4)])
    for k in range(-2, 42):
        assert (k in sl) is (k % 4 == 0 and 0 <= k < 40)


def test_len_counts_distinct_keys_through_inserts_replaces_and_deletes(subject, kit):
    """The length is the number of distinct keys stored, through inserts, replacements and
    deletes."""
    sl = subject.SkipList(seed=12)
    kit.call_each(sl.insert, [(k, 0) for k in range(200)])
    assert len(sl) == 200
    kit.call_each(sl.insert, [(k, 1) for k in range(0, 200, 2)])
    assert len(sl) == 200
    kit.call_each(sl.delete, [(k,) for k in range(0, 200, 3)])
    assert len(sl) == 200 - 67
    kit.call_each(sl.delete, [(k,) for k in range(0, 200, 3)])
    assert len(sl) == 200 - 67


def test_deleted_key_can_be_inserted_again(subject):
    """A deleted key can be inserted again, with its new value."""
    sl = subject.SkipList(seed=13)
    sl.insert(5, "old")
    sl.delete(5)
    sl.insert(5, "new")
    assert sl.get(5) == "new"
    assert len(sl) == 1
    assert 5 in sl
