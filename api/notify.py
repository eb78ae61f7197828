"""Wake long-polls and event streams when a worker changes a submission (worker threads ->
the event loop)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Notifier:
    """Per-submission events that worker threads set and request handlers await."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: dict[str, set[asyncio.Event]] = {}
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver wake-ups on ``loop`` (the server's event loop)."""
        self._loop = loop

    @contextmanager
    def subscribe(self, submission_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever ``submission_id`` changes, for as long as the block runs."""
        event = asyncio.Event()
        with self._lock:
            self._events.setdefault(submission_id, set()).add(event)
        try:
            yield event
        finally:
            with self._lock:
                waiting = self._events.get(submission_id, set())
                waiting.discard(event)
                if not waiting:
                    self._events.pop(submission_id, None)

    def notify(self, submission_id: str) -> None:
        """``submission_id`` changed; safe to call from any thread."""
        with self._lock:
            events = list(self._events.get(submission_id, ()))
        loop = self._loop
        if not events or loop is None:
            return
        for event in events:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop is closing: nobody is waiting any more
                return
