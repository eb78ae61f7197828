"""Warm sandboxes across the parent/child boundary.

The pool lives in the long-lived parent (``grader validate``, a service worker) and hands out
each container once. The containers a child needs from its start (the submission's, and the
reference's when a test uses it) are claimed before the child starts and named in its spec;
for any later one (a fresh sandbox after a hang) the child asks with a
:class:`~grader.harness.events.WarmWanted` event and reads the answer, one line, on its stdin.
The parent removes every container it handed to a child once that child has ended.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import threading
import time
from typing import IO, TYPE_CHECKING

from grader.harness.events import Sink, WarmWanted
from sandbox import SandboxLimits

if TYPE_CHECKING:
    from sandbox.pool import WarmPool  # imports the Docker SDK: only where a pool is made

#: How long the child waits for the parent's answer before it starts a container itself.
ANSWER_SECONDS = 2.0

#: Longest a child holds its pool's refills back (``WarmPool.hold_refills``): a grading is over
#: in seconds, a hung one is not waited for.
REFILL_HOLD_SECONDS = 10.0

#: Containers handed to a child at its start: id -> the shape of limits it was made for.
HandedOut = dict[str, str]


def limits_key(limits: SandboxLimits) -> str:
    """The shape of ``limits`` as the two ends compare it (and as ``WarmWanted`` carries it)."""
    return json.dumps(dataclasses.asdict(limits), sort_keys=True)


class WarmLink:
    """The child's end: ``take(limits)`` is a warm container id from the parent, or ``None``."""

    def __init__(self, sink: Sink, fd: int = 0, handed: HandedOut | None = None) -> None:
        self.sink, self.fd = sink, fd
        #: Containers the parent claimed before this child started, and their limits.
        self._handed = dict(handed or {})
        self._lock = threading.Lock()
        self._buffer = b""

    def take(self, limits: SandboxLimits) -> str | None:
        """A warm container of ``limits``: one the parent handed over at the start, else one
        it is asked for now; ``None`` if it has none."""
        shape = limits_key(limits)
        with self._lock:
            for container_id, handed_shape in self._handed.items():
                if handed_shape == shape:
                    del self._handed[container_id]
                    return container_id
            self.sink(WarmWanted(shape))
            line = self._read_line(time.monotonic() + ANSWER_SECONDS)
        return line or None

    def _read_line(self, deadline: float) -> str:
        """One line from the parent, or ``""`` if none comes in time."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                return ""
            chunk = os.read(self.fd, 4096)
            if not chunk:
                return ""
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("ascii", "replace").strip()


class WarmDispenser:
    """The parent's end for one child: hands it containers before it starts, answers its
    requests, and removes all it was given. Until then the pool refills a shape only up to
    half its size, so that new containers do not start beside this grading."""

    def __init__(self, pool: WarmPool, stdin: IO[bytes] | None = None) -> None:
        self.pool, self.stdin = pool, stdin
        self.handed: list[str] = []
        self._release_refills = pool.hold_refills(REFILL_HOLD_SECONDS)

    def hand_over(self, limits: SandboxLimits, count: int) -> HandedOut:
        """Claim up to ``count`` containers of ``limits`` for a child about to start (what
        its spec names, see :class:`WarmLink`); fewer if the pool has fewer ready."""
        handed: HandedOut = {}
        for _ in range(count):
            container_id = self.pool.claim(limits)
            if not container_id:
                break
            self.handed.append(container_id)
            handed[container_id] = limits_key(limits)
        return handed

    def answer(self, event: WarmWanted) -> None:
        """Claim a container for the limits the child asked for and tell the child its id."""
        container_id = self.pool.claim(SandboxLimits(**json.loads(event.limits)))
        if container_id:
            self.handed.append(container_id)
        if self.stdin is not None:
            try:
                self.stdin.write(f"{container_id or ''}\n".encode())
                self.stdin.flush()
            except OSError:
                pass  # the child is gone; the container is removed with the rest

    def finish(self) -> None:
        """The child ended: remove every container it was given (whether it used it or not),
        and let the pool refill."""
        self.pool.discard(self.handed)
        self.handed = []
        self._release_refills()
