"""CPU time of a live process tree, read from ``/proc`` (when no cgroup can be used).

Each thread's ``/proc/<pid>/task/<tid>/schedstat`` starts with the CPU
nanoseconds it has run; ``/proc/<pid>/task/<tid>/children`` lists the
children it forked. Summing over the tree below the run's first process
covers what is alive now. A thread that is gone keeps the value it had when
last seen, so the total never goes down; but CPU spent after that last look
(or by a process born and gone between two looks) is missed, as is anything
that left the tree (a grandchild whose parent exited is re-parented away).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from sandbox.cgroup import read_small


def tree_threads(root: int) -> Iterator[tuple[int, int]]:
    """``(tid, CPU ns)`` of every thread of ``root`` and its live descendants."""
    stack, seen = [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:  # a reused pid can make the tree look cyclic
            continue
        seen.add(pid)
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue  # exited meanwhile
        for tid in tids:
            base = f"/proc/{pid}/task/{tid}/"
            try:
                ns = int(read_small(base + "schedstat").split()[0])
                children = read_small(base + "children").split()
            except (OSError, ValueError, IndexError):
                continue
            yield int(tid), ns
            stack.extend(int(child) for child in children)


class TreeCpuMeter:
    """Cumulative CPU seconds of a process tree, from ``/proc``; never decreasing.

    Not thread-safe: callers serialise :meth:`sample`. See the module
    docstring for what it misses.
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self._live: dict[int, int] = {}
        self._gone_ns = 0

    def sample(self) -> float:
        """Look at the tree now and return the total CPU seconds seen so far."""
        now: dict[int, int] = {}
        for tid, ns in tree_threads(self.root):
            last = self._live.get(tid)
            if last is not None and ns < last:
                self._gone_ns += last  # the tid was reused by a new thread
            now[tid] = ns
        for tid, last in self._live.items():
            if tid not in now:
                self._gone_ns += last
        self._live = now
        return (self._gone_ns + sum(now.values())) / 1e9
