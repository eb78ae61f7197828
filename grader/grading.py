"""Grade one submission: check it, stage it, run the hidden suite, score, and report."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from grader import __version__
from grader.exercise import Exercise
from grader.harness.collection import collect_suite
from grader.harness.runner import SuiteOutcome, SuiteRunner
from grader.harness.supervisor import DirectRunner
from grader.report import Report, RunStatus, TestResult, TestStatus
from grader.scoring import TestRecord, score_tests
from grader.submission import Submission

_suites: dict[str, list[TestRecord]] = {}


def suite_tests(exercise: Exercise) -> list[TestRecord]:
    """Fresh records for every hidden test (collection is cached per suite hash)."""
    key = exercise.suite_hash
    if key not in _suites:
        _suites[key] = collect_suite(exercise)
    return [dataclasses.replace(t) for t in _suites[key]]  # the cached ones stay untouched


def grade(exercise: Exercise, submission: Submission, runner: SuiteRunner | None = None) -> Report:
    """Grade ``submission`` against ``exercise``'s hidden suite and return the full report.

    Anything the submission does wrong ends up in the report; only faults of the grader itself
    (a broken exercise, an unusable sandbox) raise ``GraderError``.
    """
    runner = runner or DirectRunner()
    started_at, start = datetime.now(UTC), time.monotonic()
    tests = suite_tests(exercise)
    if submission.problem:
        for test in tests:
            test.status, test.message = TestStatus.ERROR, "not run: the submission has a problem"
        outcome = SuiteOutcome(records=tests, error=submission.problem)
    else:
        with tempfile.TemporaryDirectory(prefix="grader-sub-") as tmp:
            staged = Path(tmp)
            (staged / exercise.meta.module).write_bytes(submission.source)
            outcome = runner.run(exercise, staged, tests)
    return build_report(exercise, outcome, runner.mode, started_at, time.monotonic() - start)


def _run_status(outcome: SuiteOutcome) -> RunStatus:
    """The run's overall status: a timeout or an error wins over a plain failure."""
    if outcome.timed_out:
        return RunStatus.TIMEOUT
    if outcome.error:
        return RunStatus.ERROR
    if all(r.status is TestStatus.PASSED for r in outcome.records):
        return RunStatus.PASSED
    return RunStatus.FAILED


def build_report(
    exercise: Exercise, outcome: SuiteOutcome, mode: str, started_at: datetime, duration: float
) -> Report:
    """Score ``outcome`` and wrap it in a versioned report."""
    scored = score_tests(outcome.records, exercise.meta.categories)
    tests = [
        TestResult(
            name=r.name,
            category=r.category,
            points=pts,
            max_points=max_pts,
            status=r.status,
            message=r.message,
            hint=r.hint,
            duration=round(r.duration, 4),
            detail=r.detail,
            slowest_call=round(r.slowest_call, 4),
        )
        for r, (pts, max_pts) in zip(outcome.records, scored.points, strict=True)
    ]
    status = _run_status(outcome)
    message = outcome.error or ("the whole run hit its time limit" if outcome.timed_out else "")
    return Report(
        grader_version=__version__,
        exercise=exercise.slug,
        status=status,
        score=scored.score,
        max_score=scored.max_score,
        message=message,
        mode=mode,
        sandbox=outcome.sandbox,
        suite_hash=exercise.suite_hash,
        started_at=started_at,
        duration=round(duration, 3),
        categories=scored.categories,
        tests=tests,
        output=outcome.output,
    )
