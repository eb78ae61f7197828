"""Hidden tests: long pseudo-random operation sequences checked against a simple model."""

import random

import pytest

CANARY = "GRADER-CANARY-lru-cache-612281109267e324"

MISSING = "<missing>"


class ModelClock:
    """The model's own copy of the fake clock, moved by the same steps."""

    def __init__(self, start):
        self.t = start

    def now(self):
        return self.t


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

    def purge_then_keys(self):
        return self.keys()


def run_sequence(subject, kit, seed, steps, capacity, cache_ttl, put_ttls, advances):
    """Apply the same random operations to the submission and the model, comparing results.

    The operations are planned first and run in one batch next to the submission; every
    step's outcome is then compared with the model's, so a failure still names its step.
    """
    rng = random.Random(seed)
    clock = kit.clock(1000.0)
    cache = subject.LRUCache(capacity, ttl=cache_ttl, clock=clock)
    model_clock = ModelClock(1000.0)
    model = Model(capacity, cache_ttl, model_clock)
    calls, wants, checked = [], [], []
    for step in range(steps):
        key = rng.randrange(capacity * 2)
        roll = rng.random()
        if roll < 0.40:
            ttl = rng.choice(put_ttls)
            kwargs = {} if ttl is None else {"ttl": ttl}
            calls.append((cache.put, (key, step), kwargs))
            wants.append(model.put(key, step, **kwargs))
        elif roll < 0.65:
            calls.append((cache.get, (key, MISSING)))
            wants.append(model.get(key, MISSING))
        elif roll < 0.72:
            calls.append((cache.delete, (key,)))
            wants.append(model.delete(key))
        elif roll < 0.79:
            calls.append((cache.__contains__, (key,)))
            wants.append(model.contains(key))
        elif roll < 0.84:
            calls.append((cache.__len__, ()))
            wants.append(len(model.keys()))
        elif roll < 0.90:
            calls.append((cache.keys, ()))
            wants.append(model.keys())
        elif roll < 0.93 and advances:
            calls.append((cache.purge_expired, ()))
            wants.append(None)  # how many it removes is not compared; keys() follows
            calls.append((cache.keys, ()))
            wants.append(model.purge_then_keys())
            checked.append(len(calls) - 2)
        elif advances:
            dt = rng.choice(advances)
            calls.append((clock.advance, (dt,)))
            model_clock.t += dt
            wants.append(model_clock.t)
        else:
            continue
    calls.append((cache.keys, ()))
    wants.append(model.keys())
    outcomes = kit.run_calls(calls)
    for index, (outcome, want) in enumerate(zip(outcomes, wants, strict=True)):
        if index in checked:  # purge_expired's count is not compared here
            assert outcome[0] == "return", f"call {index}: {outcome}"
            continue
        assert outcome == ["return", want], f"call {index}"


@pytest.mark.category("eviction")
def test_random_operations_follow_lru_order(subject, kit):
    """A long mix of put/get/delete/in/len/keys without expiry matches LRU semantics."""
    for seed in range(3):
        run_sequence(
            subject, kit, seed, steps=300, capacity=5, cache_ttl=None, put_ttls=[None], advances=[]
        )


@pytest.mark.category("expiry")
def test_random_operations_with_expiry_follow_the_statement(subject, kit):
    """A long mix of operations with time-to-lives and a moving clock matches the statement.

    The clock moves in half seconds and every expiry time falls on a quarter second, so this
    test never reads the clock at the exact instant an entry expires.
    """
    for seed in range(3):
        run_sequence(
            subject,
            kit,
            100 + seed,
            steps=400,
            capacity=4,
            cache_ttl=3.25,
            put_ttls=[None, None, 1.25, 2.25, 3.75],
            advances=[0.5, 1, 1.5],
        )
