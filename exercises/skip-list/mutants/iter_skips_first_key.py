"""Bug: iteration skips the smallest key.

A sorted map implemented as a skip list (with one deliberate bug).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any


class _Node:
    """One entry: a key, its value, and a forward link per level the node reaches."""

    __slots__ = ("forward", "key", "value")

    def __init__(self, key: Any, value: Any, level: int) -> None:
        self.key = key
        self.value = value
        self.forward: list[_Node | None] = [None] * level


class SkipList:
    """A sorted map from mutually comparable keys to values.

    Each node's level is drawn at random from the list's own ``random.Random(seed)``: level
    ``k + 1`` with probability ``p`` given level ``k``, capped at ``max_level``. ``insert``,
    ``get``, ``delete`` and ``in`` make O(log n) key comparisons on average; ``range`` makes
    O(log n + k) for k results.
    """

    def __init__(self, max_level: int = 32, p: float = 0.5, seed: int | None = None) -> None:
        if isinstance(max_level, bool) or not isinstance(max_level, int):
            raise TypeError(f"max_level must be an int, got {max_level!r}")
        if max_level < 1:
            raise ValueError(f"max_level must be at least 1, got {max_level}")
        if isinstance(p, bool) or not isinstance(p, int | float):
            raise TypeError(f"p must be a number, got {p!r}")
        if not 0 < p < 1:  # also rejects NaN
            raise ValueError(f"p must be in the open interval (0, 1), got {p}")
        self._max_level = max_level
        self._p = float(p)
        self._random = random.Random(seed)
        self._head = _Node(None, None, max_level)
        self._level = 1  # how many levels are in use (the head's forward lists beyond are None)
        self._size = 0

    def _random_level(self) -> int:
        """Draw a level: 1, then one more with probability ``p`` each time, up to the cap."""
        level = 1
        while level < self._max_level and self._random.random() < self._p:
            level += 1
        return level

    def _predecessors(self, key: Any) -> list[_Node]:
        """For each level in use, the last node whose key is less than ``key`` (or the head)."""
        update = [self._head] * self._max_level
        node = self._head
        for i in range(self._level - 1, -1, -1):
            nxt = node.forward[i]
            while nxt is not None and nxt.key < key:
                node = nxt
                nxt = node.forward[i]
            update[i] = node
        return update

    def _find(self, key: Any) -> _Node | None:
        """The node holding ``key``, or ``None``."""
        candidate = self._predecessors(key)[0].forward[0]
        if candidate is not None and candidate.key == key:
            return candidate
        return None

    def insert(self, key: Any, value: Any = None) -> None:
        """Map ``key`` to ``value``, replacing the value if the key is already present."""
        update = self._predecessors(key)
        candidate = update[0].forward[0]
        if candidate is not None and candidate.key == key:
            candidate.value = value
            return
        level = self._random_level()
        if level > self._level:
            # update[] already holds the head for levels not yet in use.
            self._level = level
        node = _Node(key, value, level)
        for i in range(level):
            node.forward[i] = update[i].forward[i]
            update[i].forward[i] = node
        self._size += 1

    def get(self, key: Any, default: Any = None) -> Any:
        """The value stored for ``key``, or ``default`` if the key is absent."""
        node = self._find(key)
        return default if node is None else node.value

    def delete(self, key: Any) -> bool:
        """Remove ``key``; ``True`` if it was present, else ``False``."""
        update = self._predecessors(key)
        node = update[0].forward[0]
        if node is None or node.key != key:
            return False
        for i in range(len(node.forward)):
            update[i].forward[i] = node.forward[i]
        while self._level > 1 and self._head.forward[self._level - 1] is None:
            self._level -= 1
        self._size -= 1
        return True

    def __contains__(self, key: Any) -> bool:
        return self._find(key) is not None

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        """The keys in ascending order."""
        node = self._head.forward[0]
        while node is not None:
            node = node.forward[0]
            if node is not None:
                yield node.key

    def items(self) -> Iterator[tuple[Any, Any]]:
        """``(key, value)`` pairs in ascending key order."""
        node = self._head.forward[0]
        while node is not None:
            yield (node.key, node.value)
            node = node.forward[0]

    def range(self, lo: Any, hi: Any) -> Iterator[tuple[Any, Any]]:
        """``(key, value)`` pairs with ``lo <= key < hi``, in ascending key order."""
        node = self._predecessors(lo)[0].forward[0]
        while node is not None and node.key < hi:
            yield (node.key, node.value)
            node = node.forward[0]
