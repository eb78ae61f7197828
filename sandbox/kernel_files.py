"""Small kernel files (cgroup counters, ``/proc/<pid>/stat``) read again and again, through
descriptors kept open.

A cost measurement looks at its sandbox's tasks until none is running, and a test's budget
reads the sandbox's CPU counter: about 1,500 reads of such files in a grading. Opening one
(the path's lookup, the permission checks, the ``close``) was most of what a read cost, and
on a busy machine it was a tenth of a grading's CPU. These files are ``seq_file``s, which
make their content afresh on every read from offset 0, so a descriptor kept open and read
with ``pread`` at 0 gives what a fresh ``open`` would.
"""

from __future__ import annotations

import collections
import os
import threading
from pathlib import Path

#: Descriptors kept open at most (the least recently read is closed first).
LIMIT = 64
#: Files opened afresh for every read: a cgroup v1 task list is built once per open file
#: and served again to later reads of that file for up to a second (``cgroup_pidlist_start``),
#: so a kept descriptor would show tasks that left, and miss new ones.
FRESH_EACH_TIME = frozenset({"tasks", "cgroup.procs", "cgroup.threads"})


class OpenFiles:
    """Kernel files kept open by path, read from their start; thread-safe."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._fds: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._lock = threading.Lock()

    def read(self, path: str | Path) -> bytes:
        """The whole content of ``path`` now; ``OSError`` if it cannot be read (it is gone,
        or its process ended: a descriptor of a process that ended is closed and ``path``
        opened afresh once, since the number may name another process by now)."""
        key = os.fspath(path)
        if os.path.basename(key) in FRESH_EACH_TIME:
            return _read_once(key)
        with self._lock:  # no descriptor is closed, or its number reused, under a read
            fd = self._fds.pop(key, None)
            if fd is not None:
                try:
                    data = _read_from_start(fd)
                except OSError:
                    os.close(fd)
                else:
                    self._keep(key, fd)
                    return data
            fd = os.open(key, os.O_RDONLY | os.O_CLOEXEC)
            try:
                data = _read_from_start(fd)
            except BaseException:
                os.close(fd)
                raise
            self._keep(key, fd)
            return data

    def _keep(self, key: str, fd: int) -> None:
        """Keep ``fd`` as the most recently read, closing the oldest beyond the limit."""
        self._fds[key] = fd
        while len(self._fds) > self.limit:
            os.close(self._fds.popitem(last=False)[1])

    def close(self) -> None:
        """Close every kept descriptor."""
        with self._lock:
            while self._fds:
                os.close(self._fds.popitem()[1])


def _read_once(path: str) -> bytes:
    """All of ``path``, through a descriptor of its own."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return _read_from_start(fd)
    finally:
        os.close(fd)


def _read_from_start(fd: int) -> bytes:
    """All of an open kernel file, read from offset 0 (a seq_file may hand out a page per
    read)."""
    data = chunk = os.pread(fd, 65536, 0)
    while chunk:
        chunk = os.pread(fd, 65536, len(data))
        data += chunk
    return data


#: This process's kept files.
OPEN_FILES = OpenFiles()
