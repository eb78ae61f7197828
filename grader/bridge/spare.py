"""A sandbox started ahead of need, for a subject that has already had to be restarted.

A submission that hung once will likely hang again: each timeout replaces its sandbox, and
starting one (a container, an interpreter, the import) would add to every later timeout. So
after a first restart the subject keeps one spare starting in the background, and the next
restart takes it ready. The spare runs the same submission for the same grading; it is killed
unused at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sandbox import SandboxError, SandboxRun


class SpareRun:
    """One run being started on a thread of its own."""

    def __init__(self, start_run: Callable[[], SandboxRun]) -> None:
        self._start_run = start_run
        self._run: SandboxRun | None = None
        self._thread = threading.Thread(target=self._start, name="subject-spare", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            self._run = self._start_run()
        except SandboxError:
            self._run = None  # the caller starts one itself, and sees the error then

    def take(self) -> SandboxRun | None:
        """The started run (waiting for it if need be), or ``None`` if it failed to start."""
        self._thread.join()
        run, self._run = self._run, None
        return run

    def discard(self) -> None:
        """Kill the spare unused."""
        run = self.take()
        if run is not None:
            run.kill()
