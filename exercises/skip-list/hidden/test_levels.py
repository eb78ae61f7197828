"""Hidden tests: node levels come from the list's own Random(seed), follow p, and stop at max_level.

Levels are not visible directly; they show in how many key comparisons an operation makes,
which the kit's counting keys record.
"""

import itertools
import random

import pytest

CANARY = "GRADER-CANARY-skip-list-03eb92a6eaae37be"

pytestmark = pytest.mark.category("levels")


def _build_descending(subject, kit, n, **options):
    """A skip list holding the even keys 0, 2, ..., 2(n-1), inserted largest first."""
    sl = subject.SkipList(**options)
    kit.call_each(sl.insert, [(k, k) for k in range(2 * (n - 1), -1, -2)])
    return sl


def _average_insert_comparisons(sl, kit, n, probes, seed):
    """Average comparisons made inserting ``probes`` new (odd) keys at random places."""
    counter = kit.counter()
    fresh = counter.keys(random.Random(seed).sample(range(1, 2 * n, 2), probes))
    kit.call_each(sl.insert, [(k, "new") for k in fresh])
    return counter.comparisons() / probes


def test_same_seed_gives_the_same_levels(subject, kit):
    """Two lists with the same seed, given the same operations, make the same comparisons."""
    per_get = []
    for _ in range(2):
        sl = _build_descending(subject, kit, 2000, seed=12345)
        counter = kit.counter()
        values = random.Random(5).sample(range(0, 4000, 2), 60)
        calls = [(counter.comparisons, ())]
        for key in counter.keys(values):
            calls += [(sl.get, (key,)), (counter.comparisons, ())]
        outcomes = kit.run_calls(calls)
        assert [o[1] for o in outcomes[1::2]] == values
        totals = [o[1] for o in outcomes[0::2]]
        per_get.append([after - before for before, after in itertools.pairwise(totals)])
    assert per_get[0] == per_get[1]


def test_p_close_to_one_makes_almost_every_node_max_level_tall(subject, kit):
    """Levels follow p: with p = 0.99 nearly every node reaches max_level, so a search is long."""
    n = 1000
    averages = []
    for seed in (1, 2):
        sl = _build_descending(subject, kit, n, max_level=32, p=0.99, seed=seed)
        averages.append(_average_insert_comparisons(sl, kit, n, 40, seed))
    # About 73% of the nodes reach level 32, so a search walks ~n/3 nodes on the top level
    # alone; a list that drew levels with p = 0.5 instead would need ~2*log2(n) steps.
    assert min(averages) > n / 10


def test_max_level_one_gives_a_plain_linked_list(subject, kit):
    """Levels are capped at max_level: with max_level=1 a search walks the list node by node."""
    n = 1000
    averages = []
    for seed in (1, 2):
        sl = _build_descending(subject, kit, n, max_level=1, p=0.5, seed=seed)
        averages.append(_average_insert_comparisons(sl, kit, n, 40, seed))
    # Every node has level 1, so inserting at a random place passes ~n/2 nodes on average.
    assert min(averages) > n / 10
