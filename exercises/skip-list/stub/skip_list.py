"""A sorted map implemented as a skip list.

Fill in every method. See README.md for the full statement.
"""

from __future__ import annotations

import random  # noqa: F401 - you will need random.Random(seed)
from collections.abc import Iterator
from typing import Any


class SkipList:
    """A sorted map from mutually comparable keys to values, built as a skip list.

    Each new node's level is drawn at random from the list's own ``random.Random(seed)``:
    level 1, then level ``k + 1`` with probability ``p`` given level ``k``, capped at
    ``max_level``. ``insert``, ``get``, ``delete`` and ``in`` make O(log n) key comparisons on
    average; ``range`` makes O(log n + k) for k results. Thread safety is not required.
    """

    def __init__(self, max_level: int = 32, p: float = 0.5, seed: int | None = None) -> None:
        """Create an empty skip list.

        Raises ``ValueError`` if ``max_level < 1`` or ``p`` is not in the open interval (0, 1)
        (a wrong type may raise ``TypeError`` instead). Two lists with the same ``seed`` given
        the same operations draw the same levels.
        """
        raise NotImplementedError("implement SkipList.__init__")

    def insert(self, key: Any, value: Any = None) -> None:
        """Map ``key`` to ``value``; if ``key`` is present, replace its value."""
        raise NotImplementedError("implement SkipList.insert")

    def get(self, key: Any, default: Any = None) -> Any:
        """The value stored for ``key`` (whatever it is), or ``default`` if ``key`` is absent."""
        raise NotImplementedError("implement SkipList.get")

    def delete(self, key: Any) -> bool:
        """Remove ``key``; return ``True`` if it was present, else ``False``."""
        raise NotImplementedError("implement SkipList.delete")

    def __contains__(self, key: Any) -> bool:
        """``key in sl``: whether ``key`` is present."""
        raise NotImplementedError("implement SkipList.__contains__")

    def __len__(self) -> int:
        """The number of keys stored."""
        raise NotImplementedError("implement SkipList.__len__")

    def __iter__(self) -> Iterator[Any]:
        """The keys, in ascending order."""
        raise NotImplementedError("implement SkipList.__iter__")

    def items(self) -> Iterator[tuple[Any, Any]]:
        """An iterator of ``(key, value)`` pairs, in ascending key order."""
        raise NotImplementedError("implement SkipList.items")

    def range(self, lo: Any, hi: Any) -> Iterator[tuple[Any, Any]]:
        """An iterator of ``(key, value)`` pairs with ``lo <= key < hi``, in ascending key order.

        Empty when ``lo >= hi``. ``lo`` and ``hi`` need not be stored keys.
        """
        raise NotImplementedError("implement SkipList.range")
