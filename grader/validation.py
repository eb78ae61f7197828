"""Prove an exercise's hidden suite exact: the reference always passes, the stub and every
mutant never do, and the visible tests agree with the reference."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.exercise import Exercise
from grader.grading import grade, suite_tests
from grader.harness.runner import SuiteRunner
from grader.harness.supervisor import child_env
from grader.report import RunStatus
from grader.submission import from_path

MIN_MUTANTS = 8
MIN_HIDDEN_TESTS = 25


@dataclass
class Check:
    """One validation check: what was run, what was expected, what happened."""

    exercise: str
    subject: str
    expected: str
    result: str
    ok: bool


@dataclass
class Validation:
    """Every check of one exercise."""

    exercise: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(c.ok for c in self.checks)


def run_visible_tests(exercise: Exercise, module: Path) -> tuple[bool, str]:
    """Run the visible tests against ``module`` as a candidate would; (passed, summary)."""
    with tempfile.TemporaryDirectory(prefix="grader-visible-") as tmp:
        work = Path(tmp)
        shutil.copy(module, work / exercise.meta.module)
        for test in exercise.visible_tests():
            shutil.copy(test, work / test.name)
        (work / "pytest.ini").write_text("[pytest]\n")
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(work)],
            cwd=work,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    lines = proc.stdout.strip().splitlines()
    return proc.returncode == 0, (lines[-1] if lines else proc.stderr.strip()[-200:])


def _grade_check(
    exercise: Exercise,
    runner: SuiteRunner,
    subject: str,
    path: Path,
    expected: str,
    accept: Callable[[float, float, RunStatus], bool],
) -> Check:
    """Grade one module and judge the result."""
    report = grade(exercise, from_path(path, path.name), runner)
    result = f"{report.score:g}/{report.max_score:g} {report.status.value}"
    if report.status is RunStatus.ERROR:
        result += f" ({report.message})"
    return Check(
        exercise.slug,
        subject,
        expected,
        result,
        accept(report.score, report.max_score, report.status),
    )


def validate_exercise(
    exercise: Exercise,
    runner_factory: Callable[[], SuiteRunner],
    runs: int = 5,
    workers: int = 2,
    progress: Callable[[Check], None] | None = None,
    min_tests: int = MIN_HIDDEN_TESTS,
    min_mutants: int = MIN_MUTANTS,
) -> Validation:
    """Run every check of ``exercise``; ``progress`` is told of each as it completes."""
    result = Validation(exercise.slug)

    def add(check: Check) -> None:
        result.checks.append(check)
        if progress:
            progress(check)

    problems = exercise.check_layout()
    add(Check(exercise.slug, "layout", "complete", "; ".join(problems) or "complete", not problems))
    count = len(suite_tests(exercise))
    add(Check(exercise.slug, "hidden tests", f">= {min_tests}", str(count), count >= min_tests))
    mutants = exercise.mutants()
    add(
        Check(
            exercise.slug,
            "mutants",
            f">= {min_mutants}",
            str(len(mutants)),
            len(mutants) >= min_mutants,
        )
    )
    if problems:
        return result
    ok, summary = run_visible_tests(exercise, exercise.reference_path)
    add(Check(exercise.slug, "visible tests on reference", "pass", summary, ok))
    ok, summary = run_visible_tests(exercise, exercise.stub_path)
    add(Check(exercise.slug, "visible tests on stub", "fail", summary, not ok))

    staged = _stage_mutants(exercise)
    jobs: list[tuple[str, Path, str, Callable[[float, float, RunStatus], bool]]] = [
        (
            f"reference run {i + 1}/{runs}",
            exercise.reference_path,
            "100%",
            lambda s, m, st: st is RunStatus.PASSED and s == m,
        )
        for i in range(runs)
    ]
    jobs.append(
        (
            "stub",
            exercise.stub_path,
            "0, no error",
            lambda s, m, st: s == 0 and st is RunStatus.FAILED,
        )
    )
    jobs += [
        (
            f"mutant {m.name}",
            staged / m.name / exercise.meta.module,
            "< 100%",
            lambda s, m, st: s < m,
        )
        for m in mutants
    ]
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_grade_check, exercise, runner_factory(), *job) for job in jobs]
            for future in futures:
                add(future.result())
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return result


def _stage_mutants(exercise: Exercise) -> Path:
    """Copy each mutant under the module's real file name, one folder per mutant."""
    root = Path(tempfile.mkdtemp(prefix="grader-mutants-"))
    for mutant in exercise.mutants():
        (root / mutant.name).mkdir()
        shutil.copy(mutant.path, root / mutant.name / exercise.meta.module)
    return root
