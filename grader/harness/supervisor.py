"""The parent side of a grading run: start the harness child and supervise it.

The parent follows the child's events (``grader.harness.events``), so it always knows which test
is running: a test that overruns its limit is killed and marked ``timeout``, a child that dies
fails the test in progress, and in both cases a fresh child carries on with the tests still to
run.

In direct mode the submission shares the child (trusted code only). In isolated mode the child
keeps the submission in a sandbox and enforces per-call deadlines itself; the limits here are
a backstop.

Starting a child and reading its events is in ``launch``, what each event means in
``progress``, ending a child and reaping its leftovers in ``reaping``, and collecting the suite
in ``collection``; ``child_env`` and ``collect_suite`` are re-exported here.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.budget import TestBudget
from grader.caps import OUTPUT_CAP
from grader.exercise import Exercise
from grader.harness.collection import collect_suite
from grader.harness.events import ReferenceReleased, WarmWanted
from grader.harness.launch import child_env, read_events, start_child, write_spec
from grader.harness.progress import ChildProgress, settle
from grader.harness.reaping import describe_exit, kill_group, log_tail, reap_docker
from grader.harness.runner import SuiteOutcome
from grader.harness.warm_link import WarmDispenser
from grader.report import TestStatus
from grader.scoring import TestRecord
from grader.timing import call_deadlines, deadlines
from sandbox import SandboxLimits
from sandbox.proctree import TreeCpuMeter

if TYPE_CHECKING:
    from grader.harness.forks import ForkServer
    from grader.harness.resident import Residents
    from sandbox.pool import WarmPool  # imports the Docker SDK: only where a pool is made

__all__ = ["ChildRunner", "DirectRunner", "child_env", "collect_suite"]

#: How much of the submission's output a report keeps.
_POLL = 0.01
#: Extra time the parent allows an isolated test before it kills the whole child.
ISOLATED_GRACE = 20.0
#: Extra time the parent allows a direct-mode test whose alarm did not stop it (a loop in C).
DIRECT_GRACE = 1.0
#: How long an isolated child may take to start the sandbox and import the submission.
ISOLATED_IMPORT = 15.0


class _Gradings:
    """How many gradings this process runs now (the service's workers are threads of one)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.count += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.count -= 1

    def leave_cores_to_poll(self) -> bool:
        """Whether each running grading can have a core for its harness and one for its
        subject, so that polling the bridge (``sandbox.polling``) costs nobody a CPU."""
        return 2 * self.count <= (os.cpu_count() or 1)


GRADINGS = _Gradings()


def subject_limits(exercise: Exercise) -> SandboxLimits:
    """Limits of the sandbox a submission (or the reference) runs in during one grading: it
    must outlive the whole run, but not by much."""
    run_timeout = exercise.meta.limits.run_timeout
    return SandboxLimits(wall_timeout=run_timeout + 60, cpu_seconds=int(run_timeout) + 60, pids=128)


class ChildRunner:
    """Runs the hidden suite in a supervised child process, directly or isolated."""

    def __init__(
        self,
        backend: str | None = None,
        image: str | None = None,
        runtime: str | None = None,
        pool: WarmPool | None = None,
        stop_at_first_failure: bool = False,
        forks: ForkServer | None = None,
        residents: Residents | None = None,
    ) -> None:
        self.backend = backend
        #: Where children are forked from, for callers that grade many submissions in a row.
        self.forks = forks
        #: Stop at the first test that does not pass; the rest are ``not_run`` (a mutation
        #: run only needs to know that a mutant was caught, and by which test).
        self.stop_at_first_failure = stop_at_first_failure
        self.image = image
        self.runtime = runtime
        #: Warm containers for the child's sandboxes (Docker only), owned by the caller.
        self.pool = pool if backend == "docker" else None
        #: Resident references lent to the children (with a pool only), owned by the caller.
        self.residents = residents if self.pool is not None else None
        self.mode = "isolated" if backend else "direct"

    def _mode_spec(
        self, exercise: Exercise, deadlines: dict[str, float], calls: dict[str, float]
    ) -> dict[str, Any]:
        """What the child needs to know about the mode (and each test's deadlines)."""
        limits = exercise.meta.limits
        if not self.backend:
            return {"mode": "direct", "deadlines": deadlines, "test_timeout": limits.test_timeout}
        return {
            "mode": "isolated",
            "backend": self.backend,
            "image": self.image,
            "runtime": self.runtime,
            "warm": self.pool is not None,
            "test_timeout": limits.test_timeout,
            "deadlines": deadlines,
            "call_deadlines": calls,
            "import_timeout": ISOLATED_IMPORT,
            "limits": dataclasses.asdict(subject_limits(exercise)),
            "spin": GRADINGS.leave_cores_to_poll(),
        }

    def _import_limit(self, exercise: Exercise) -> float:
        """How long the child may take to start and import the submission (a backstop)."""
        if self.backend:
            return ISOLATED_IMPORT + ISOLATED_GRACE
        return max(5.0, exercise.meta.limits.test_timeout)

    def _backstop(self, deadline: float, ceiling: float, child: int) -> TestBudget:
        """When the parent gives up on a test with this deadline and kills the child. The
        child enforces the deadline itself (an alarm in direct mode, the bridge's call
        deadlines in isolated mode); the parent steps in only when that could not work: in
        direct mode by the same rules a grace later (a loop in C ignores the alarm), in
        isolated mode a grace after the ceiling (the child stopped answering at all)."""
        if self.backend:
            return TestBudget(ceiling + ISOLATED_GRACE, ceiling + ISOLATED_GRACE)
        meter = TreeCpuMeter(child)
        return TestBudget(deadline + DIRECT_GRACE, ceiling + DIRECT_GRACE, cpu=meter.sample)

    def run(
        self, exercise: Exercise, submission_dir: Path, tests: list[TestRecord]
    ) -> SuiteOutcome:
        """Run every test, restarting the child after a hang or a crash, within the run limit."""
        pending = {t.nodeid: t for t in tests}
        outcome = SuiteOutcome(records=tests)
        limits = exercise.meta.limits
        if self.pool is not None:  # containers start while the child imports pytest
            self.pool.warm_up(subject_limits(exercise))
        by_name = deadlines(exercise, [t.name for t in tests], self.mode)
        test_deadlines = {t.nodeid: by_name[t.name] for t in tests}
        calls = call_deadlines(exercise, by_name) if self.backend else {}
        limits_of = (test_deadlines, {t.nodeid: calls[t.name] for t in tests if t.name in calls})
        deadline = time.monotonic() + limits.run_timeout
        with GRADINGS, tempfile.TemporaryDirectory(prefix="grader-direct-") as tmp:
            workdir = Path(tmp)
            while pending and not outcome.error and not outcome.timed_out:
                progressed = self._one_child(
                    exercise, submission_dir, workdir, pending, outcome, deadline, limits_of
                )
                if not progressed or self._stopped(outcome, pending):
                    break
        stopped = self._stopped(outcome, pending) and not outcome.error and not outcome.timed_out
        reason = outcome.error or (
            "the whole run hit its time limit"
            if outcome.timed_out
            else "the run stopped at the first failure"
            if stopped
            else "the test process stopped early"
        )
        # Never started because the whole run's limit came first: not a timeout of their own.
        # (A submission whose import hung or failed is what each test's status still blames.)
        unstarted = (
            TestStatus.NOT_RUN
            if (outcome.timed_out and not outcome.error) or stopped
            else TestStatus.TIMEOUT
            if outcome.timed_out
            else TestStatus.ERROR
        )
        for record in pending.values():
            settle(record, unstarted, f"not run: {reason}")
        outcome.output = outcome.output[-OUTPUT_CAP:]
        return outcome

    def _stopped(self, outcome: SuiteOutcome, pending: dict[str, TestRecord]) -> bool:
        """Whether the run stops here because a settled test did not pass (only when asked)."""
        return self.stop_at_first_failure and any(
            r.status is not TestStatus.PASSED for r in outcome.records if r.nodeid not in pending
        )

    def _one_child(
        self,
        exercise: Exercise,
        submission_dir: Path,
        workdir: Path,
        pending: dict[str, TestRecord],
        outcome: SuiteOutcome,
        deadline: float,
        limits_of: tuple[dict[str, float], dict[str, float]],
    ) -> bool:
        """Run one child over the pending tests; ``True`` if it settled at least one test.
        ``limits_of``: each test's deadline, and each call's where it has one of its own."""
        test_deadlines, call_limits = limits_of
        done_before = len(pending)
        results = workdir / f"results-{time.monotonic_ns()}.jsonl"
        import_limit = self._import_limit(exercise)
        reference_at_start = any(t.uses_reference for t in pending.values())
        warm = WarmDispenser(self.pool) if self.pool else None
        lease = (
            self.residents.lend(exercise, subject_limits(exercise))
            if self.residents is not None and reference_at_start
            else None
        )
        # The sandboxes the child needs at once are claimed now: no round trip through the
        # results file (polled every _POLL) before the child can start them.
        wanted = 1 + (reference_at_start and lease is None)
        handed = warm.hand_over(subject_limits(exercise), wanted) if warm else {}
        spec = write_spec(
            workdir,
            exercise,
            results=str(results),
            submission_dir=str(submission_dir),
            **self._mode_spec(
                exercise,
                {k: test_deadlines[k] for k in pending},
                {k: v for k, v in call_limits.items() if k in pending},
            ),
            deselect=[t.nodeid for t in outcome.records if t.nodeid not in pending],
            stop_at_first_failure=self.stop_at_first_failure,
            reference_at_start=reference_at_start,
            reference_resident=lease.spec() if lease is not None else None,
            warm_handed=handed,
        )
        log_path = workdir / f"output-{time.monotonic_ns()}.log"
        log = log_path.open("wb")
        try:
            proc = start_child(
                spec,
                workdir,
                log,
                stdin=self.pool is not None,
                forks=self.forks,
                pass_fds=(lease.fd,) if lease is not None else (),
            )
        except BaseException:
            log.close()
            if warm is not None:
                warm.finish()  # never handed to anyone: removed, not returned to the pool
            if lease is not None and self.residents is not None:
                self.residents.give_back(lease, clean=False)
            raise
        offset, progress = 0, ChildProgress(pending, outcome)
        limits = exercise.meta.limits
        watched: tuple[str, float] | None = None
        backstop: TestBudget | None = None  # the budget of the test in progress, once seen
        if warm is not None:
            warm.stdin = proc.stdin
        released = False  # whether the child gave the lent resident back clean
        try:
            while True:
                exited = proc.poll() is not None
                events, offset = read_events(results, offset)
                for event in events:
                    if isinstance(event, WarmWanted) and warm is not None:
                        warm.answer(event)
                    if isinstance(event, ReferenceReleased):
                        released = event.clean
                    progress.take(event)
                if exited or self._stopped(outcome, pending):
                    break
                now = time.monotonic()
                current = progress.current
                if current is not None and (current, progress.started) != watched:
                    watched = (current, progress.started)
                    backstop = self._backstop(
                        test_deadlines[current], limits.test_timeout, proc.pid
                    )
                if (
                    current is not None
                    and backstop is not None
                    and now >= backstop.due
                    and backstop.overrun()
                ):
                    settle(
                        pending.pop(current),
                        TestStatus.TIMEOUT,
                        f"timed out after {test_deadlines[current]:g} s",
                    )
                    progress.current = None
                    break
                if (
                    not progress.imported
                    and not outcome.error
                    and now - progress.started > import_limit
                ):
                    outcome.error = f"importing the submission took longer than {import_limit:g} s"
                    outcome.timed_out = True
                    break
                if now > deadline:
                    if progress.current is not None:
                        settle(
                            pending.pop(progress.current),
                            TestStatus.TIMEOUT,
                            "timed out: the whole run hit its time limit",
                        )
                    outcome.timed_out = True
                    break
                pause = getattr(proc, "pause", None)  # a forked child says when it ends
                if pause is not None:
                    pause(_POLL)
                else:
                    time.sleep(_POLL)
        finally:
            killed = proc.poll() is None
            kill_group(proc)
            log.close()
            if warm is not None:
                warm.finish()
                if proc.stdin is not None:
                    proc.stdin.close()
            if lease is not None and self.residents is not None:
                self.residents.give_back(lease, released)
            if killed and self.backend == "docker":
                reap_docker()
        code = proc.returncode
        if self._stopped(outcome, pending):
            progress.current = None  # ended by us: the test in progress is just not run
        if progress.current is not None and progress.current in pending:
            settle(
                pending.pop(progress.current),
                TestStatus.ERROR,
                f"the test process died during this test ({describe_exit(code)})",
            )
        if not progress.imported and not outcome.error and not outcome.timed_out:
            outcome.error = (
                f"the submission stopped the process while importing ({describe_exit(code)})"
            )
        outcome.output += log_tail(log_path, OUTPUT_CAP)
        return len(pending) < done_before


class DirectRunner(ChildRunner):
    """A runner for direct mode: trusted code only."""

    def __init__(self) -> None:
        super().__init__()
