"""One test's time budget, fair on a busy machine.

A test's deadline from the timing profile (:mod:`grader.timing`) is tight: twenty times what
the reference took, at least half a second. On an idle machine wall time is the right measure.
On a busy one (the service grading several submissions, CI running suites side by side) an
honest test can wait far longer than that for a CPU, and must not fail for it. So a test is
over its budget when any of these holds:

- its wall time reached the ceiling (the exercise's ``test_timeout``), whatever the load;
- the processes running it used ``cpu_limit`` seconds of CPU (a busy loop, however slowly
  the machine lets it spin; by default ``cpu_limit`` is ``limit``);
- its wall time *minus the time the machine was stalled* reached ``limit``, where stalled
  means some task waited for a CPU or for memory (the kernel's pressure stall information,
  ``/proc/pressure``). A submission blocked forever (a deadlock, a sleep) is caught by this one:
  on an idle machine after ``limit``, on a busy one later, never after the ceiling.

Every measure is read by trusted code outside the submission. Where pressure information is
missing (an old kernel, ``psi=0``) the third rule counts plain wall time, as before.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from sandbox.kernel_files import OPEN_FILES

_PRESSURE = Path("/proc/pressure")
#: A test's deadline is never less than this many seconds (hundreds of times what most tests
#: take; see :mod:`grader.timing`).
FLOOR = 0.5
#: A test held to the floor (the reference needs a few milliseconds) is also over once its
#: processes used this much CPU time: on a busy machine a busy loop is caught after a quarter
#: second of spinning, however long the machine makes that take.
CPU_FLOOR = 0.25
#: The shortest pause between two looks once the budget could be over.
_MIN_STEP = 0.02


def pressure_stall_seconds(root: Path = _PRESSURE) -> float | None:
    """Seconds, since boot, in which some task waited for a CPU or for memory; ``None`` if
    the kernel does not say."""
    total = 0
    try:
        for resource in ("cpu", "memory"):
            for line in OPEN_FILES.read(root / resource).splitlines():
                if line.startswith(b"some "):
                    total += int(line.rpartition(b"total=")[2])
    except (OSError, ValueError):
        return None
    return total / 1e6


def cpu_limit(limit: float) -> float:
    """The CPU rule's limit for a test whose deadline is ``limit`` (see :data:`CPU_FLOOR`)."""
    return min(limit, CPU_FLOOR) if limit <= FLOOR else limit


class TestBudget:
    """The limits of one test and what it used so far (see the module docstring).

    ``cpu`` returns cumulative CPU seconds of the processes running the test (``None``: not
    measurable, the CPU rule is skipped); ``clock`` and ``stall`` are injectable for tests.
    """

    __test__ = False  # not a pytest class, whatever its name

    def __init__(
        self,
        limit: float,
        ceiling: float,
        cpu: Callable[[], float | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        stall: Callable[[], float | None] = pressure_stall_seconds,
        cpu_limit: float | None = None,
        scope: str = "",
        spent: float = 0.0,
    ) -> None:
        self.limit = min(limit, ceiling)
        #: What the limit covers, in the timeout message (e.g. " in one call").
        self.scope = scope
        #: Seconds counted as used on every rule before this budget started.
        self.spent = spent
        self.ceiling = ceiling
        #: The CPU rule's limit (default: ``limit``).
        self.cpu_limit = min(self.limit, cpu_limit) if cpu_limit is not None else self.limit
        self._cpu, self._clock, self._stall = cpu, clock, stall
        self.restart()

    def restart(self) -> None:
        """Start counting from now (a new test, or a fresh subject after a restart)."""
        self.started = self._clock() - self.spent
        self._stall_0 = self._stall()
        self._cpu_0 = self._cpu() if self._cpu is not None else None
        #: When it is first worth looking again (monotonic seconds).
        self.due = self.started + (self.cpu_limit if self._cpu is not None else self.limit)

    @property
    def hard_end(self) -> float:
        """When the ceiling is reached (monotonic seconds)."""
        return self.started + self.ceiling

    def overrun(self) -> str | None:
        """The timeout message if the budget is spent, else ``None`` (and :attr:`due` moves
        to the earliest moment it could be)."""
        now = self._clock()
        wall = now - self.started
        stalled = self._stalled()
        if wall >= self.ceiling:
            message = f"timed out after {self.ceiling:g} s"
            if self.limit < self.ceiling:
                message += (
                    f" (its own limit of {self.limit:g} s was stretched: the machine was busy"
                    f" for {stalled:.1f} s of it)"
                )
            return message
        cpu = self._cpu_used()
        if wall - stalled >= self.limit:
            return self._message(self.limit, wall, stalled, "")
        if cpu is not None and cpu >= self.cpu_limit:
            return self._message(self.cpu_limit, wall, stalled, " of CPU time")
        waits = [self.ceiling - wall, self.limit - (wall - stalled)]
        if cpu is not None:
            waits.append((self.cpu_limit - cpu) / (os.cpu_count() or 1))
        self.due = now + max(_MIN_STEP, min(waits))
        return None

    def _message(self, limit: float, wall: float, stalled: float, what: str) -> str:
        """The timeout message, saying so when the clock ran on while the machine was busy."""
        message = f"timed out after {limit:g} s{what}{self.scope}"
        if wall - limit >= 0.1:
            message += f" ({wall:.1f} s by the clock, {stalled:.1f} s of it a busy machine)"
        return message

    def _cpu_used(self) -> float | None:
        """CPU seconds used since the start, if measurable."""
        if self._cpu is None or self._cpu_0 is None:
            return None
        now = self._cpu()
        return None if now is None else now - self._cpu_0 + self.spent

    def _stalled(self) -> float:
        """Seconds the machine was stalled since the start (0 if unknown)."""
        if self._stall_0 is None:
            return 0.0
        now = self._stall()
        return 0.0 if now is None else max(0.0, now - self._stall_0)


class CallBudget:
    """One call's budget inside its test's: spent when either is. A call's own limit comes
    from the reference's slowest call (see :mod:`grader.timing`).

    Most calls take well under a millisecond, and reading the machine's counters costs tens of
    microseconds, so a call's own budget is set up only once the call has run for
    :data:`ARM_AFTER` seconds; that time counts as used on every rule (at most that much
    stricter than exact, on a busy machine).
    """

    #: How long a call runs before its own budget is set up (seconds).
    ARM_AFTER = 0.05

    def __init__(
        self,
        test: TestBudget,
        limit: float,
        cpu: Callable[[], float | None] | None,
        clock: Callable[[], float] = time.monotonic,
        stall: Callable[[], float | None] = pressure_stall_seconds,
    ) -> None:
        self.test, self.limit = test, limit
        self._cpu, self._clock, self._stall = cpu, clock, stall
        self.started = clock()
        self._armed_at = self.started + min(self.ARM_AFTER, limit / 2)
        self.own: TestBudget | None = None

    @property
    def due(self) -> float:
        """When it is first worth looking again (monotonic seconds)."""
        own = self.own.due if self.own is not None else self._armed_at
        return min(self.test.due, own)

    def overrun(self) -> str | None:
        """The timeout message of whichever budget is spent, else ``None``."""
        message = self.test.overrun()
        if message is not None:
            return message
        if self.own is None:
            now = self._clock()
            if now < self._armed_at:
                return None
            self.own = TestBudget(
                self.limit,
                self.test.ceiling,
                cpu=self._cpu,
                clock=self._clock,
                stall=self._stall,
                scope=" in one call",
                spent=now - self.started,
            )
        return self.own.overrun()
