"""Grade an exercise's machine mutants in direct mode, several at a time, each within a time
cap, and sort them into killed, equivalent, survived and stale."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from grader.exercise import Exercise
from grader.grading import grade
from grader.harness.forks import shared_fork_server
from grader.harness.supervisor import ChildRunner
from grader.mutation.equivalents import load_equivalents
from grader.mutation.generate import MachineMutant, generate_mutants, select
from grader.report import RunStatus, TestStatus
from grader.submission import from_text

#: A mutant's run is capped at this many times the reference's run, plus one test's limit...
CAP_FACTOR = 4.0
#: ...but never below this many seconds, nor above the exercise's own run limit.
MIN_CAP = 20.0


@dataclass(frozen=True)
class MutantResult:
    """How one mutant fared against the hidden suite."""

    mutant: MachineMutant
    killed: bool
    status: RunStatus
    score: float
    max_score: float
    killer: str | None  # the first hidden test, in suite order, that did not pass
    seconds: float
    #: Killed by running out of time (the run's cap, or the killing test's own limit).
    timed_out: bool = False
    #: Why the mutant could not be graded (a fault of the grader); "" when it was graded.
    fault: str = ""


@dataclass
class ExerciseRun:
    """The outcome of mutating one exercise."""

    exercise: str
    generated: int
    results: list[MutantResult] = field(default_factory=list)
    equivalents: dict[str, str] = field(default_factory=dict)
    #: Listed equivalents whose id no longer exists, or whose mutant was killed: (id, why).
    stale: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    #: Why the mutants could not be graded (e.g. the reference itself fails); "" if they were.
    problem: str = ""

    @property
    def killed(self) -> list[MutantResult]:
        """Killed mutants not listed as equivalent."""
        return [r for r in self.results if r.killed and r.mutant.id not in self.equivalents]

    @property
    def equivalent(self) -> list[MutantResult]:
        """Surviving mutants listed as equivalent."""
        return [r for r in self._survivors() if r.mutant.id in self.equivalents]

    @property
    def survived(self) -> list[MutantResult]:
        """Surviving mutants not listed as equivalent: each one is a failure."""
        return [r for r in self._survivors() if r.mutant.id not in self.equivalents]

    @property
    def faults(self) -> list[MutantResult]:
        """Mutants that could not be graded: neither killed nor survived, and a failure."""
        return [r for r in self.results if r.fault]

    def _survivors(self) -> list[MutantResult]:
        """Graded mutants that every test passed."""
        return [r for r in self.results if not r.killed and not r.fault]

    @property
    def score(self) -> float | None:
        """killed / (graded - listed equivalents), or None when nothing counts."""
        counted = len(self.killed) + len(self.survived)
        return len(self.killed) / counted if counted else None

    @property
    def ok(self) -> bool:
        """No problem, no unlisted survivor, no stale entry, no mutant left ungraded."""
        return not self.problem and not self.survived and not self.stale and not self.faults


def mutate_exercise(
    exercise: Exercise,
    workers: int | None = None,
    operators: Collection[str] | None = None,
    sample: int | None = None,
    seed: int = 0,
    timeout: float | None = None,
    on_planned: Callable[[int], None] | None = None,
    on_graded: Callable[[MutantResult], None] | None = None,
) -> ExerciseRun:
    """Generate the reference's mutants, grade the chosen ones, and judge the outcome.

    ``operators``, ``sample`` and ``seed`` choose a subset (:func:`generate.select`); stale
    equivalents are always judged against every generated id. The reference is graded first:
    if it does not score 100%, nothing else is. Each mutant gets ``timeout`` seconds (by
    default a cap from the reference's own time); running out counts as killed.
    ``on_planned`` is told how many mutants will be graded, ``on_graded`` of each result.
    """
    started = time.monotonic()
    module = exercise.meta.module
    reference = exercise.reference_path.read_text(encoding="utf-8")
    mutants = generate_mutants(reference, module)
    run = ExerciseRun(exercise.slug, len(mutants), equivalents=load_equivalents(exercise.root))
    known = {m.id for m in mutants}
    run.stale = [
        (i, "no such mutant (the reference changed?)") for i in run.equivalents if i not in known
    ]
    chosen = select(mutants, operators, sample, seed)
    if on_planned:
        on_planned(len(chosen))
    reference_seconds, run.problem = _grade_reference(exercise, reference)
    if run.problem:
        run.seconds = time.monotonic() - started
        return run
    limits = exercise.meta.limits
    cap = timeout or max(MIN_CAP, CAP_FACTOR * reference_seconds + limits.test_timeout)
    capped = _with_run_limit(exercise, min(cap, limits.run_timeout))
    # Threads suffice: each grading runs in a harness child process of its own.
    pool = ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1)
    try:
        futures = [pool.submit(_grade_or_fault, capped, mutant) for mutant in chosen]
        for future in as_completed(futures):
            if on_graded:
                on_graded(future.result())
    finally:  # on Ctrl-C or a fault, grade nothing more
        pool.shutdown(wait=True, cancel_futures=True)
    by_id = {f.result().mutant.id: f.result() for f in futures}
    run.results = [by_id[m.id] for m in chosen]
    run.stale += [
        (r.mutant.id, f"listed as equivalent, but killed by {r.killer or r.status.value}")
        for r in run.results
        if r.killed and r.mutant.id in run.equivalents
    ]
    run.seconds = time.monotonic() - started
    return run


def _grade_reference(exercise: Exercise, reference: str) -> tuple[float, str]:
    """Grade the reference: (how long it took, "") if it scores 100%, else (0, why not)."""
    try:
        report = grade(exercise, from_text(reference.encode(), exercise.meta.module))
    except Exception as exc:  # a fault of the grader: say so, and grade no mutant
        return 0.0, f"grading the reference failed: {_describe(exc)}"
    if not report.passed:
        return 0.0, (
            f"the reference scores {report.score:g}/{report.max_score:g} "
            f"({report.status.value}); mutants mean nothing until it passes"
        )
    return report.duration, ""


def grade_mutant(exercise: Exercise, mutant: MachineMutant) -> MutantResult:
    """Grade one mutant in direct mode (a harness child of its own, forked from this process's
    fork server: a mutation run grades hundreds), up to the first test that catches it."""
    started = time.monotonic()
    report = grade(
        exercise,
        from_text(mutant.source.encode(), exercise.meta.module),
        ChildRunner(stop_at_first_failure=True, forks=shared_fork_server()),
    )
    killer = next((t for t in report.tests if t.status is not TestStatus.PASSED), None)
    return MutantResult(
        mutant=mutant,
        killed=report.score < report.max_score or report.status is not RunStatus.PASSED,
        status=report.status,
        score=report.score,
        max_score=report.max_score,
        killer=killer.name if killer else None,
        seconds=time.monotonic() - started,
        timed_out=report.status is RunStatus.TIMEOUT
        or (killer is not None and killer.status is TestStatus.TIMEOUT),
    )


def _grade_or_fault(exercise: Exercise, mutant: MachineMutant) -> MutantResult:
    """Grade one mutant; a fault of the grader becomes the result's ``fault``, so that one
    broken grading does not lose the others."""
    try:
        return grade_mutant(exercise, mutant)
    except Exception as exc:
        return MutantResult(
            mutant=mutant,
            killed=False,
            status=RunStatus.ERROR,
            score=0.0,
            max_score=0.0,
            killer=None,
            seconds=0.0,
            fault=_describe(exc),
        )


def _describe(exc: Exception) -> str:
    """A one-line account of an exception."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _with_run_limit(exercise: Exercise, seconds: float) -> Exercise:
    """A copy of ``exercise`` whose whole-run limit is ``seconds``."""
    clone = copy.copy(exercise)
    limits = exercise.meta.limits.model_copy(update={"run_timeout": seconds})
    clone.meta = exercise.meta.model_copy(update={"limits": limits})
    return clone
