"""What a warm pool starts next, and when: the refill policy, apart from the daemon calls.

A pool keeps ``size`` containers ready for each shape of limits claimed recently (a shape
nobody claimed for :data:`SHAPE_IDLE_SECONDS` is forgotten), within a memory budget: the
memory limits of the ready containers add up to at most ``memory_budget`` bytes. The shape
furthest below its target is filled first.

Not while a grading that took its containers is under way. Starting a container costs the
daemon, containerd and runc about a tenth of a CPU second. On a small machine a refill started
by a grading's own claim ran beside that grading's start and its tests, and cost it
0.1-0.17 s of a 0.6 s grading (skip-list, two cores). So a grading holds refills back while it
runs (:meth:`RefillHolds.hold`), and the pool refills once it ends. A hold never lasts longer
than it was asked for, and never keeps a shape below half its size: a second grading that
comes meanwhile must find its containers.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Mapping

from sandbox.limits import SandboxLimits

#: How often the refill thread looks at the daemon when nothing asks it to.
CHECK_SECONDS = 1.0
#: A shape nobody claimed for this long is no longer kept warm.
SHAPE_IDLE_SECONDS = 600.0


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

    def next_expiry(self) -> float | None:
        """Seconds until the first hold in force expires; ``None`` if none is."""
        now = time.monotonic()
        with self._lock:
            left = [until - now for until in self._until.values() if until > now]
        return min(left) if left else None


class RefillPlan:
    """The shapes a pool keeps warm, and which one it should start a container for next.
    Not thread-safe on its own: the pool calls it under its lock (the holds have their own)."""

    def __init__(self, size: int, memory_budget: int) -> None:
        self.size, self.memory_budget = size, memory_budget
        self.holds = RefillHolds()
        self._wanted: dict[SandboxLimits, float] = {}

    def want(self, limits: SandboxLimits) -> None:
        """Keep ``limits`` warm from now on (it was just claimed, or warmed up)."""
        self._wanted[limits] = time.monotonic()

    def forget_idle(self) -> None:
        """Stop keeping warm the shapes nobody asked for in :data:`SHAPE_IDLE_SECONDS`."""
        now = time.monotonic()
        for limits in [
            lim for lim, asked in self._wanted.items() if now - asked > SHAPE_IDLE_SECONDS
        ]:
            del self._wanted[limits]

    def most_needed(self, ready: Mapping[SandboxLimits, int]) -> SandboxLimits | None:
        """The wanted shape with the fewest ready containers below ``size`` (below half of
        it while refills are held back) that fits the memory budget; ``None``: nothing to do."""
        held = sum(limits.memory_bytes * count for limits, count in ready.items())
        # While a grading holds refills back, a shape is refilled only to half its size:
        # enough for another grading (two sandboxes, at the default size of four).
        enough = (self.size + 1) // 2 if self.holds.active() else self.size
        best: tuple[int, SandboxLimits] | None = None
        for limits in self._wanted:
            count = ready.get(limits, 0)
            if count >= enough or held + limits.memory_bytes > self.memory_budget:
                continue
            if best is None or count < best[0]:
                best = (count, limits)
        return best[1] if best else None

    def wait_seconds(self) -> float:
        """How long the refill thread may sleep when nothing wakes it: until its next look
        at the daemon, or sooner when a hold expires (the pool then refills at once)."""
        expiry = self.holds.next_expiry()
        return CHECK_SECONDS if expiry is None else min(CHECK_SECONDS, expiry + 0.001)
