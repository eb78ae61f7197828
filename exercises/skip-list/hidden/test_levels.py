"""Hidden tests: node levels come from the list's own Random(seed), follow p, and stop at max_level.

Levels are not visible directly; they show in which key comparisons an operation makes. The
tests count them exactly with counting keys whose value and counter stay in the harness: the
submission holds stand-ins, so every comparison it makes with one is a call the harness answers
and counts, out of the submission's reach. The lists hold plain int keys; only the probes are
counting keys.
"""

import itertools
import random

import pytest

CANARY = "GRADER-CANARY-skip-list-03eb92a6eaae37be"

pytestmark = pytest.mark.category("levels")

N, PROBES = 200, 2


def _build_descending(module, kit, n, **options):
    """A skip list holding the even keys 0, 2, ..., 2(n-1), inserted largest first."""
    sl = module.SkipList(**options)
    kit.call_each(sl.insert, [(k, k) for k in range(2 * (n - 1), -1, -2)])
    return sl


def _average_get_comparisons(subject, kit, seed, n=N, probes=PROBES, **options):
    """Average comparisons made looking up ``probes`` absent (odd) keys at random places in
    the upper half of a list of ``n`` keys (so that a long walk shows for every probe)."""
    sl = _build_descending(subject, kit, n, seed=seed, **options)
    counter = kit.counter()
    keys = counter.keys(random.Random(seed).sample(range(n + 1, 2 * n, 2), probes))
    assert kit.call_each(sl.get, [(key,) for key in keys]) == [None] * probes
    return counter.comparisons() / probes


def _comparisons_per_get(sl, kit, values):
    """The comparisons each ``sl.get`` of ``values`` (stored keys) makes, in order."""
    counter = kit.counter()
    calls = [(counter.comparisons, ())]
    for key in counter.keys(values):
        calls += [(sl.get, (key,)), (counter.comparisons, ())]
    outcomes = kit.run_calls(calls)
    assert [o[1] for o in outcomes[1::2]] == values
    totals = [o[1] for o in outcomes[0::2]]
    return [after - before for before, after in itertools.pairwise(totals)]


def test_same_seed_gives_the_same_levels(subject, kit):
    """Two lists with the same seed, given the same operations, make the same comparisons."""
    # 100 keys: enough for other seeds to show in the comparisons, few enough that a list
    # without levels (a linked list) costs no more than ten times this on any bridge.
    values = random.Random(5).sample(range(0, 200, 2), 8)
    per_get = [
        _comparisons_per_get(_build_descending(subject, kit, 100, seed=12345), kit, values)
        for _ in range(2)
    ]
    assert per_get[0] == per_get[1]


def test_defaults_are_max_level_32_and_p_one_half(subject, kit):
    """A list made without max_level or p behaves exactly like one made with max_level=32 and
    p=0.5, given the same seed and the same operations."""
    # With p = 0.99 nearly every node reaches the cap, so a cap of 31 or 33 instead of 32 shows
    # as one comparison fewer or more on the way down, and in the levels drawn after it.
    for defaults, explicit, n in (
        ({}, {"max_level": 32, "p": 0.5}, 60),
        ({"p": 0.99}, {"max_level": 32, "p": 0.99}, 12),
    ):
        values = random.Random(6).sample(range(0, 2 * n, 2), 3)
        made = [
            _build_descending(subject, kit, n, seed=77, **opts) for opts in (defaults, explicit)
        ]
        assert _comparisons_per_get(made[0], kit, values) == _comparisons_per_get(
            made[1], kit, values
        )


def test_p_close_to_one_makes_almost_every_node_max_level_tall(subject, kit):
    """Levels follow p: with p = 0.99 nearly every node reaches max_level, so a search is long."""
    # About 73% of the nodes reach level 32, so a search walks most of the nodes before the
    # probe on the top level alone (over N/3 comparisons in the upper half); with p = 0.5 it
    # would take ~2*log2(N), about 15.
    assert _average_get_comparisons(subject, kit, 1, max_level=32, p=0.99) > N / 6


def test_max_level_one_gives_a_plain_linked_list(subject, kit):
    """Levels are capped at max_level: with max_level=1 a search walks the list node by node."""
    # Every node has level 1, so looking up a key in the upper half passes over N/2 nodes.
    assert _average_get_comparisons(subject, kit, 2, max_level=1, p=0.5) > N / 6


def test_small_p_keeps_most_nodes_on_the_bottom_level(subject, kit):
    """Levels follow p: with a small p and a small max_level few nodes climb above level 1,
    so a search passes only a small part of the list."""
    # With p = 0.1 about one node in ten reaches level 2 and one in a hundred level 3: looking
    # up a key among 400 makes about 25 comparisons (under 45 for thousands of seeds, so a
    # solution that compares twice per node still passes). If nodes climbed with probability
    # 1 - p = 0.9 instead, most of them would reach level 3 and a lookup would make over 200.
    averages = [
        _average_get_comparisons(subject, kit, seed, n=400, probes=4, max_level=3, p=0.1)
        for seed in (3, 4, 5)
    ]
    assert sum(averages) / len(averages) < 400 * 0.3
