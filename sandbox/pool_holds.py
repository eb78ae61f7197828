"""When a warm pool refills: not while a grading that took its containers is under way.

Starting a container costs the daemon, containerd and runc about a tenth of a CPU second. On a
small machine a refill started by a grading's own claim ran beside that grading's start and
its tests, and cost it 0.1-0.17 s of a 0.6 s grading (skip-list, two cores). So a grading holds
refills back while it runs (:meth:`RefillHolds.hold`), and the pool refills once it ends. A hold
never lasts longer than it was asked for, and never keeps a shape of limits below half its
size: a second grading that comes meanwhile must find its containers (``WarmPool._most_needed``).
"""

from __future__ import annotations

import itertools
import threading
import time


class RefillHolds:
    """Tokens that each hold refills back until released or expired."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[int, float] = {}
        self._serial = itertools.count(1)

    def hold(self, seconds: float) -> int:
        """Hold refills back for at most ``seconds``; the token to :meth:`release`."""
        with self._lock:
            token = next(self._serial)
            self._until[token] = time.monotonic() + seconds
            return token

    def release(self, token: int) -> None:
        """End a hold (once; an unknown or expired token is ignored)."""
        with self._lock:
            self._until.pop(token, None)

    def active(self) -> bool:
        """Whether some hold is still in force (expired ones are forgotten)."""
        now = time.monotonic()
        with self._lock:
            for token in [t for t, until in self._until.items() if until <= now]:
                del self._until[token]
            return bool(self._until)
