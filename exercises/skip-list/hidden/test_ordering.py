"""Hidden tests: iteration and items() in ascending key order, for keys of several types."""

import random

import pytest

CANARY = "GRADER-CANARY-skip-list-03eb92a6eaae37be"

pytestmark = pytest.mark.category("ordering")


def test_iter_yields_keys_in_ascending_order(subject, kit):
    """Iterating yields every key once, in ascending order, whatever the insertion order."""
    keys = list(range(300))
    random.Random(1).shuffle(keys)
    sl = subject.SkipList(seed=21)
    kit.call_each(sl.insert, [(k, None) for k in keys])
    assert kit.collect(sl) == list(range(300))


def test_items_yields_pairs_in_ascending_key_order(subject, kit):
    """The items() iterator yields (key, value) pairs in ascending key order."""
    keys = random.Random(2).sample(range(-500, 500), 120)
    sl = subject.SkipList(seed=22)
    kit.call_each(sl.insert, [(k, f"v{k}") for k in keys])
    assert kit.collect(sl.items()) == [(k, f"v{k}") for k in sorted(keys)]


def test_iterating_twice_gives_the_same_keys(subject, kit):
    """Iterating does not change the list: a second iteration yields the same keys."""
    sl = subject.SkipList(seed=23)
    kit.call_each(sl.insert, [(k, k) for k in (4, 2, 9, 7)])
    first = kit.collect(sl)
    assert first == [2, 4, 7, 9]
    assert kit.collect(sl) == first
    assert kit.collect(sl.items()) == [(2, 2), (4, 4), (7, 7), (9, 9)]
    assert len(sl) == 4


def test_string_keys_are_ordered(subject, kit):
    """String keys are kept in their natural (lexicographic) order."""
    words = ["pear", "apple", "fig", "banana", "Zebra", "apricot", "", "fig2"]
    sl = subject.SkipList(seed=24)
    kit.call_each(sl.insert, [(w, len(w)) for w in words])
    assert kit.collect(sl) == sorted(words)
    assert sl.get("apricot") == 7
    assert sl.get("") == 0


def test_tuple_keys_are_ordered(subject, kit):
    """Tuple keys are kept in tuple order."""
    keys = [(2, "b"), (1, "z"), (2, "a"), (1, "a"), (0, "q")]
    sl = subject.SkipList(seed=25)
    kit.call_each(sl.insert, [(k, i) for i, k in enumerate(keys)])
    assert kit.collect(sl) == sorted(keys)
    assert sl.get((2, "a")) == 2
    assert ((3, "a") in sl) is False


def test_float_and_int_keys_mix(subject, kit):
    """Int and float keys compare with each other, negatives included, and sort together."""
    keys = [1.5, -2, 0.25, 3, -0.5, 2.75, 0]
    sl = subject.SkipList(seed=26)
    kit.call_each(sl.insert, [(k, str(k)) for k in keys])
    assert kit.collect(sl.items()) == [(k, str(k)) for k in sorted(keys)]
    assert sl.get(0.25) == "0.25"
    assert sl.get(0.3, "none") == "none"


def test_replaced_key_appears_once_with_its_new_value(subject, kit):
    """Replacing values never duplicates a key in iteration; items() shows the latest value."""
    sl = subject.SkipList(seed=27)
    kit.call_each(sl.insert, [(k, "first") for k in range(50)])
    kit.call_each(sl.insert, [(k, "second") for k in range(0, 50, 5)])
    expected = [(k, "second" if k % 5 == 0 else "first") for k in range(50)]
    assert kit.collect(sl.items()) == expected
    assert kit.collect(sl) == list(range(50))


def test_iteration_after_deletes_skips_deleted_keys(subject, kit):
    """After deletes (first, last and middle keys), iteration yields exactly the remaining keys."""
    sl = subject.SkipList(seed=28)
    kit.call_each(sl.insert, [(k, k) for k in range(100)])
    doomed = [0, 99, *range(10, 90, 7)]
    kit.call_each(sl.delete, [(k,) for k in doomed])
    remaining = [k for k in range(100) if k not in doomed]
    assert kit.collect(sl) == remaining
    assert kit.collect(sl.items()) == [(k, k) for k in remaining]


def test_delete_everything_then_reuse(subject, kit):
    """A list emptied by deletes is empty, and works normally when filled again."""
    sl = subject.SkipList(seed=29)
    kit.call_each(sl.insert, [(k, k) for k in range(64)])
    order = list(range(64))
    random.Random(3).shuffle(order)
    assert kit.call_each(sl.delete, [(k,) for k in order]) == [True] * 64
    assert len(sl) == 0
    assert kit.collect(sl) == []
    kit.call_each(sl.insert, [(k, -k) for k in (7, 3, 5)])
    assert kit.collect(sl.items()) == [(3, -3), (5, -5), (7, -7)]


def test_random_operations_match_a_dict_model(subject, kit):
    """Mixed inserts, replacements and deletes behave exactly like a sorted dict."""
    rng = random.Random(2024)
    sl = subject.SkipList(seed=30)
    model = {}
    for _ in range(8):
        inserts = [(rng.randrange(300), rng.randrange(10_000)) for _ in range(80)]
        kit.call_each(sl.insert, inserts)
        model.update(inserts)

        deletes = [(rng.randrange(300),) for _ in range(50)]
        expected = []
        for (k,) in deletes:
            expected.append(k in model)
            model.pop(k, None)
        assert kit.call_each(sl.delete, deletes) == expected

        probes = [(k, "absent") for k in range(-1, 301)]
        assert kit.call_each(sl.get, probes) == [model.get(k, "absent") for k, _ in probes]
        assert len(sl) == len(model)
        assert kit.collect(sl.items()) == sorted(model.items())
