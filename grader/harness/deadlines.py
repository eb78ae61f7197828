"""Direct mode's per-test deadlines: an alarm that interrupts the test at its deadline.

In direct mode the submission runs in the harness child itself. Without this, a method that
loops forever holds the child until the parent kills it, and every later test waits for a new
child (an interpreter, pytest, collection). ``SIGALRM`` interrupts Python code between
bytecodes, so the test fails as a timeout and the child goes on; a loop inside C code ignores
it until it returns, and then the parent's backstop kills the child as before.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType


class DeadlineExceeded(BaseException):
    """Raised in the test at its deadline. A ``BaseException``, so that the ``except
    Exception`` of the code under test does not swallow it; the harness reports it as the
    test's timeout (``report_status``)."""

    report_status = "timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.report_message = f"timed out after {seconds:g} s"


class AlarmDeadlines:
    """A test session (see ``HarnessPlugin``) that arms a real-time alarm per test."""

    def __init__(self, deadlines: dict[str, float]) -> None:
        self.deadlines = deadlines
        self.current = 0.0
        # Signals reach the main thread only, which is where pytest runs the tests.
        self.enabled = threading.current_thread() is threading.main_thread()

    def begin_test(self, nodeid: str | None = None) -> None:
        """Arm the alarm for ``nodeid``'s deadline (none known: no alarm)."""
        if nodeid is not None:
            self.current = self.deadlines.get(nodeid, 0.0)
        if self.enabled and self.current > 0:
            signal.signal(signal.SIGALRM, self._expired)
            signal.setitimer(signal.ITIMER_REAL, self.current)

    def end_test(self) -> None:
        """Disarm the alarm."""
        if self.enabled:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _expired(self, signum: int, frame: FrameType | None) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        raise DeadlineExceeded(self.current)
