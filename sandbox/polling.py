"""Poll a non-blocking read briefly before blocking on it. Stdlib-only: it is also shipped into
the sandbox, for the subject server's end of the bridge (``grader/bridge/server_channel.py``).

A round trip between the harness and a sandboxed program takes microseconds of work on either
side; what it costs is mostly the kernel putting the waiting reader to sleep and waking it again
(about 70 us of a 90 us round trip on a small virtual machine). A reader that polls for a short
while first reads an answer that comes within that time without sleeping.

Polling only pays while the other side answers at once. When it does not (a busy machine,
where the other side waits for a CPU; or a partner that works between frames), polling burns
CPU time that the other side may need, and that counts against the test's CPU budget. So a
:class:`Poller` whose polls keep finding nothing stops polling for a while.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: How long a reader polls before it blocks, in seconds.
SPIN_SECONDS = 0.0002
#: After this many polls in a row that found nothing...
MISSES_BEFORE_PAUSE = 4
#: ...this many waits block at once, then polling is tried again.
PAUSED_WAITS = 64

#: Whether this process polls at all (``set_spinning``).
_spinning = True


def set_spinning(on: bool) -> None:
    """Let every :class:`Poller` of this process poll, or never. A process whose partners
    compete for the CPUs with other work (more gradings at a time than a core each for the
    harness and the subject) should not: each poll takes a CPU another grading needs."""
    global _spinning
    _spinning = on


def spinning() -> bool:
    """Whether this process's pollers poll (see :func:`set_spinning`)."""
    return _spinning


class Poller:
    """Polls a non-blocking read for up to :attr:`seconds` (0: never) before the caller
    blocks, and pauses after :data:`MISSES_BEFORE_PAUSE` fruitless polls in a row."""

    def __init__(self, seconds: float = SPIN_SECONDS) -> None:
        self.seconds = seconds
        self._misses = 0
        self._paused = 0

    def poll(self, attempt: Callable[[], bytes], limit: float | None = None) -> bytes | None:
        """What ``attempt`` read (it raises ``BlockingIOError`` while nothing is there), or
        ``None`` if the caller should block now; polls at most ``limit`` seconds."""
        try:
            return attempt()  # already there: says nothing about how fast answers come
        except BlockingIOError:
            pass
        seconds = self.seconds if limit is None else min(self.seconds, limit)
        if seconds <= 0 or not _spinning:
            return None
        if self._paused:
            self._paused -= 1
            return None
        give_up = time.perf_counter() + seconds
        while time.perf_counter() < give_up:
            try:
                data = attempt()
            except BlockingIOError:
                continue
            self._misses = 0
            return data
        self._misses += 1
        if self._misses >= MISSES_BEFORE_PAUSE:
            self._misses, self._paused = 0, PAUSED_WAITS
        return None
