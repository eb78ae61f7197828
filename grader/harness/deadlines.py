"""Direct mode's per-test deadlines: an alarm that interrupts the test once its budget is spent.

In direct mode the submission runs in the harness child itself. Without this, a method that
loops forever holds the child until the parent kills it, and every later test waits for a new
child (an interpreter, pytest, collection). ``SIGALRM`` interrupts Python code between
bytecodes; its handler asks the test's :class:`~grader.budget.TestBudget` (CPU time of this
process, stall time of the machine) whether the test is really over, and either fails it as a
timeout, so the child goes on, or looks again later. A loop inside C code ignores the alarm
until it returns, and then the parent's backstop kills the child as before.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

from grader.budget import TestBudget, cpu_limit


class DeadlineExceeded(BaseException):
    """Raised in the test at its deadline. A ``BaseException``, so that the ``except
    Exception`` of the code under test does not swallow it; the harness reports it as the
    test's timeout (``report_status``)."""

    report_status = "timeout"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.report_message = message


class AlarmDeadlines:
    """A test session (see ``HarnessPlugin``) that arms a real-time alarm per test.

    ``deadlines`` maps node ids to their budget's limit; ``ceiling`` (the exercise's
    ``test_timeout``) bounds each test's wall time whatever the machine's load.
    """

    def __init__(self, deadlines: dict[str, float], ceiling: float = 0.0) -> None:
        self.deadlines = deadlines
        self.ceiling = ceiling
        self.current = 0.0
        self.budget: TestBudget | None = None
        # Signals reach the main thread only, which is where pytest runs the tests.
        self.enabled = threading.current_thread() is threading.main_thread()

    def begin_test(self, nodeid: str | None = None) -> None:
        """Arm the alarm for ``nodeid``'s deadline (none known: no alarm)."""
        if nodeid is not None:
            self.current = self.deadlines.get(nodeid, 0.0)
        if self.enabled and self.current > 0:
            self.budget = TestBudget(
                self.current,
                max(self.ceiling, self.current),
                cpu=time.process_time,
                cpu_limit=cpu_limit(self.current),
            )
            signal.signal(signal.SIGALRM, self._expired)
            signal.setitimer(signal.ITIMER_REAL, max(self.budget.due - time.monotonic(), 0.001))

    def end_test(self) -> float:
        """Disarm the alarm (no call crosses a sandbox here: 0)."""
        if self.enabled:
            signal.setitimer(signal.ITIMER_REAL, 0)
        self.budget = None
        return 0.0

    def _expired(self, signum: int, frame: FrameType | None) -> None:
        budget = self.budget
        if budget is None:
            return
        message = budget.overrun()
        if message is None:  # the machine was busy, not the test: look again later
            signal.setitimer(signal.ITIMER_REAL, max(budget.due - time.monotonic(), 0.001))
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.budget = None
        raise DeadlineExceeded(message)
