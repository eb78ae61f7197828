"""The in-process work queue of embedded mode, between the HTTP handlers and the worker threads.

The database is the durable record of every submission; the queue only says what to grade
next (a fleet uses Celery instead: :mod:`api.fleet`; both sit behind :mod:`api.dispatch`).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Protocol


class WorkQueue(Protocol):
    """A queue of submission ids with at-least-once delivery."""

    def enqueue(self, item: str) -> None:
        """Add ``item`` at the back (ignored if it is already waiting)."""
        ...

    def dequeue(self, timeout: float) -> str | None:
        """The next item, waiting up to ``timeout`` seconds; ``None`` if there was none.

        The item stays in flight until it is acknowledged or handed back.
        """
        ...

    def ack(self, item: str) -> None:
        """``item`` is dealt with; forget it."""
        ...

    def nack(self, item: str) -> None:
        """``item`` was not dealt with; put it back at the front."""
        ...

    def depth(self) -> int:
        """How many items are waiting (not counting those in flight)."""
        ...


class LocalQueue:
    """An in-process FIFO queue; rebuilt from the database when the service starts."""

    def __init__(self) -> None:
        self._items: deque[str] = deque()
        self._waiting: set[str] = set()
        self._in_flight: set[str] = set()
        self._ready = threading.Condition()

    def enqueue(self, item: str) -> None:
        """Add ``item`` at the back (ignored if it is already waiting)."""
        with self._ready:
            if item not in self._waiting:
                self._items.append(item)
                self._waiting.add(item)
                self._ready.notify()

    def dequeue(self, timeout: float) -> str | None:
        """The next item, waiting up to ``timeout`` seconds; ``None`` if there was none."""
        with self._ready:
            if not self._items and not self._ready.wait_for(lambda: bool(self._items), timeout):
                return None
            item = self._items.popleft()
            self._waiting.discard(item)
            self._in_flight.add(item)
            return item

    def ack(self, item: str) -> None:
        """``item`` is dealt with; forget it."""
        with self._ready:
            self._in_flight.discard(item)

    def nack(self, item: str) -> None:
        """``item`` was not dealt with; put it back at the front."""
        with self._ready:
            self._in_flight.discard(item)
            if item not in self._waiting:
                self._items.appendleft(item)
                self._waiting.add(item)
                self._ready.notify()

    def depth(self) -> int:
        """How many items are waiting (not counting those in flight)."""
        with self._ready:
            return len(self._items)
