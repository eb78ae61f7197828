"""Hidden tests: long pseudo-random operation sequences checked against a simple model."""

import random

import pytest

CANARY = "GRADER-CANARY-lru-cache-612281109267e324"

MISSING = "<missing>"


class Model:
    """A slow, obviously correct model of the statement: a list of entries, LRU first."""

    def __init__(self, capacity, ttl, clock):
        self.capacity = capacity
        self.ttl = ttl
        self.clock = clock
        self.entries = []  # [key, value, expires_at or None], least recently used first

    def _live(self, entry):
        return entry[2] is None or self.clock.now() < entry[2]

    def _find(self, key):
        for entry in self.entries:
            if entry[0] == key:
                return entry
        return None

    def get(self, key, default=None):
        entry = self._find(key)
        if entry is None or not self._live(entry):
            return default
        self.entries.remove(entry)
        self.entries.append(entry)
        return entry[1]

    def put(self, key, value, ttl=None):
        ttl = self.ttl if ttl is None else ttl
        entry = self._find(key)
        if entry is not None:
            self.entries.remove(entry)
        expires = None if ttl is None else self.clock.now() + ttl
        self.entries.append([key, value, expires])
        while len(self.keys()) > self.capacity:
            self.entries.remove(next(e for e in self.entries if self._live(e)))

    def delete(self, key):
        entry = self._find(key)
        if entry is None:
            return False
        self.entries.remove(entry)
        return self._live(entry)

    def contains(self, key):
        entry = self._find(key)
        return entry is not None and self._live(entry)

    def keys(self):
        return [e[0] for e in self.entries if self._live(e)]


def run_sequence(subject, kit, seed, steps, capacity, cache_ttl, put_ttls, advances):
    """Apply the same random operations to the submission and the model, comparing results."""
    rng = random.Random(seed)
    clock = kit.clock(1000.0)
    cache = subject.LRUCache(capacity, ttl=cache_ttl, clock=clock)
    model = Model(capacity, cache_ttl, clock)
    for step in range(steps):
        key = rng.randrange(capacity * 2)
        roll = rng.random()
        if roll < 0.40:
            ttl = rng.choice(put_ttls)
            if ttl is None:
                got, want = cache.put(key, step), model.put(key, step)
            else:
                got, want = cache.put(key, step, ttl=ttl), model.put(key, step, ttl=ttl)
        elif roll < 0.65:
            got, want = cache.get(key, MISSING), model.get(key, MISSING)
        elif roll < 0.72:
            got, want = cache.delete(key), model.delete(key)
        elif roll < 0.79:
            got, want = key in cache, model.contains(key)
        elif roll < 0.84:
            got, want = len(cache), len(model.keys())
        elif roll < 0.90:
            got, want = cache.keys(), model.keys()
        elif roll < 0.93 and advances:
            cache.purge_expired()
            got, want = cache.keys(), model.keys()
        elif advances:
            clock.advance(rng.choice(advances))
            continue
        else:
            continue
        assert got == want, f"step {step}"
    assert cache.keys() == model.keys()


@pytest.mark.category("eviction")
def test_random_operations_follow_lru_order(subject, kit):
    """A long mix of put/get/delete/in/len/keys without expiry matches LRU semantics."""
    for seed in range(3):
        run_sequence(
            subject, kit, seed, steps=300, capacity=5, cache_ttl=None, put_ttls=[None], advances=[]
        )


@pytest.mark.category("expiry")
def test_random_operations_with_expiry_follow_the_statement(subject, kit):
    """A long mix of operations with time-to-lives and a moving clock matches the statement."""
    for seed in range(3):
        run_sequence(
            subject,
            kit,
            100 + seed,
            steps=400,
            capacity=4,
            cache_ttl=3,
            put_ttls=[None, None, 1, 2, 3.5],
            advances=[0.5, 1, 1.5],
        )
