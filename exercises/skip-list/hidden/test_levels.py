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


def _average_get_comparisons(subject, kit, seed, **options):
    """Average comparisons made looking up PROBES absent (odd) keys at random places in the
    upper half of the list (so that a long walk shows for every probe)."""
    sl = _build_descending(subject, kit, N, seed=seed, **options)
    counter = kit.counter()
    probes = counter.keys(random.Random(seed).sample(range(N + 1, 2 * N, 2), PROBES))
    assert kit.call_each(sl.get, [(key, "absent") for key in probes]) == ["absent"] * PROBES
    return counter.comparisons() / PROBES


def test_same_seed_gives_the_same_levels(subject, kit):
    """Two lists with the same seed, given the same operations, make the same comparisons."""
    per_get = []
    for _ in range(2):
        sl = _build_descending(subject, kit, 400, seed=12345)
        counter = kit.counter()
        values = random.Random(5).sample(range(0, 800, 2), 8)
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
    # About 73% of the nodes reach level 32, so a search walks most of the nodes before the
    # probe on the top level alone (over N/3 comparisons in the upper half); with p = 0.5 it
    # would take ~2*log2(N), about 15.
    assert _average_get_comparisons(subject, kit, 1, max_level=32, p=0.99) > N / 6


def test_max_level_one_gives_a_plain_linked_list(subject, kit):
    """Levels are capped at max_level: with max_level=1 a search walks the list node by node."""
    # Every node has level 1, so looking up a key in the upper half passes over N/2 nodes.
    assert _average_get_comparisons(subject, kit, 2, max_level=1, p=0.5) > N / 6
