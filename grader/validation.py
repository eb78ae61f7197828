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

from grader import timing
from grader.errors import ExerciseInvalid
from grader.exercise import Exercise, Mutant
from grader.grading import grade, suite_tests
from grader.harness.runner import SuiteRunner
from grader.harness.supervisor import DirectRunner, child_env
from grader.report import Report, RunStatus, TestStatus
from grader.submission import from_path

MIN_MUTANTS = 8
#: The generic tamperer's source, appended to submissions by ``--tamper``.
TAMPERER = Path(__file__).with_name("tamperer.py")
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
            env=child_env(bytecode=False),
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
    direct: SuiteRunner | None = None,
    name_killer: bool = False,
    keep: list[Report] | None = None,
) -> Check:
    """Grade one module and judge the result; with ``direct``, also demand the same score
    and status from direct mode (the two modes must agree). With ``name_killer`` (a mutant),
    the result names the first hidden test, in suite order, that did not pass."""
    report = grade(exercise, from_path(path, path.name), runner)
    if keep is not None:
        keep.append(report)
    result = f"{report.score:g}/{report.max_score:g} {report.status.value}"
    if report.status is RunStatus.ERROR:
        result += f" ({report.message})"
    if name_killer:
        killer = next((t.name for t in report.tests if t.status is not TestStatus.PASSED), None)
        result += f"; killed by {killer}" if killer else "; survived every test"
    ok = accept(report.score, report.max_score, report.status)
    if not ok and not name_killer:  # a reference or stub that missed: say where
        result += _failures_in_words(report)
    if direct is not None:
        agree, note = _modes_agree(exercise, path, runner, direct, report)
        result += f"; {note}"
        ok = ok and agree
    return Check(exercise.slug, subject, expected, result, ok)


def _failures_in_words(report: Report, most: int = 3) -> str:
    """``"; not passed: name (status: message), ..."`` for the first ``most`` tests that did
    not pass (nothing if every test passed)."""
    missed = [t for t in report.tests if t.status is not TestStatus.PASSED]
    if not missed:
        return ""
    words = [f"{t.name} ({t.status.value}: {t.message or 'no message'})" for t in missed[:most]]
    more = f" and {len(missed) - most} more" if len(missed) > most else ""
    return "; not passed: " + ", ".join(words) + more


#: Extra gradings in each mode before a score difference counts as a disagreement.
AGREEMENT_RETRIES = 3


def _modes_agree(
    exercise: Exercise, path: Path, isolated: SuiteRunner, direct: SuiteRunner, first: Report
) -> tuple[bool, str]:
    """Whether direct mode gives the score isolated mode gave.

    A mutant whose bug is a race may be caught by a concurrency test in some runs only, in
    either mode; so a difference is confirmed by grading again in both modes, and the modes
    agree when each can give a score the other gave.
    """
    seen_isolated = {(first.score, first.status)}
    seen_direct: set[tuple[float, RunStatus]] = set()
    for attempt in range(1 + AGREEMENT_RETRIES):
        other = grade(exercise, from_path(path, path.name), direct)
        seen_direct.add((other.score, other.status))
        if seen_direct & seen_isolated:
            varies = attempt > 0 or len(seen_isolated) > 1
            return True, "direct agrees" + (" (its score varies from run to run)" if varies else "")
        if attempt < AGREEMENT_RETRIES:
            again = grade(exercise, from_path(path, path.name), isolated)
            seen_isolated.add((again.score, again.status))
    direct_scores = ", ".join(f"{s:g}" for s, _ in sorted(seen_direct))
    return False, f"direct differs: {direct_scores}"


def validate_exercise(
    exercise: Exercise,
    runner_factory: Callable[[], SuiteRunner],
    runs: int = 5,
    workers: int = 2,
    progress: Callable[[Check], None] | None = None,
    min_tests: int = MIN_HIDDEN_TESTS,
    min_mutants: int = MIN_MUTANTS,
    compare_direct: bool = False,
    tamper: bool = False,
    record_timing: bool = False,
) -> Validation:
    """Run every check of ``exercise``; ``progress`` is told of each as it completes.

    With ``compare_direct`` the stub and every mutant are also graded in direct mode and
    must get the same score and status there. With ``tamper`` the reference and every mutant
    carry the generic tamperer (:mod:`grader.tamperer`): the reference must still score 100%
    and every mutant below it, which proves no hidden test trusts anything in the sandbox.
    With ``record_timing`` (and no tamperer) the reference's per-test times are stored as the
    exercise's timing profile (:mod:`grader.timing`) when every reference run passed.
    """
    result = Validation(exercise.slug)

    def add(check: Check) -> None:
        result.checks.append(check)
        if progress:
            progress(check)

    problems = exercise.check_layout()
    add(Check(exercise.slug, "layout", "complete", "; ".join(problems) or "complete", not problems))
    count = len(suite_tests(exercise))
    add(Check(exercise.slug, "hidden tests", f">= {min_tests}", str(count), count >= min_tests))
    try:
        mutants = exercise.mutants()
    except ExerciseInvalid as exc:  # also a layout problem, so validation stops below
        mutants, count_result = [], str(exc)
    else:
        count_result = str(len(mutants))
    add(
        Check(
            exercise.slug,
            "mutants",
            f">= {min_mutants}",
            count_result,
            len(mutants) >= min_mutants,
        )
    )
    if problems:
        return result
    ok, summary = run_visible_tests(exercise, exercise.reference_path)
    add(Check(exercise.slug, "visible tests on reference", "pass", summary, ok))
    ok, summary = run_visible_tests(exercise, exercise.stub_path)
    add(Check(exercise.slug, "visible tests on stub", "fail", summary, not ok))

    label = " (tampered)" if tamper else ""
    sources, broken = _mutant_sources(mutants)
    staged = _stage_mutants(exercise, tamper, sources)
    direct = DirectRunner() if compare_direct and not tamper else None
    reference = staged / "reference" / exercise.meta.module
    Job = tuple[str, Path, str, Callable[[float, float, RunStatus], bool], SuiteRunner | None, bool]
    jobs: list[Job | Check] = [
        (f"reference run {i + 1}/{runs}{label}", reference, "100%", _full_marks, None, False)
        for i in range(runs)
    ]
    if not tamper:
        jobs.append(("stub", exercise.stub_path, "0, no error", _zero_no_error, direct, False))
    for m in mutants:
        subject = f"mutant {m.name}{label}"
        if m.name in broken:  # its edits no longer apply: a failed check, nothing to grade
            jobs.append(Check(exercise.slug, subject, "< 100%", broken[m.name], False))
            continue
        path = staged / m.name / exercise.meta.module
        jobs.append((subject, path, "< 100%", _below_max, direct, True))
    references: list[Report] = []
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [
                job
                if isinstance(job, Check)
                else pool.submit(
                    _grade_check,
                    exercise,
                    runner_factory(),
                    *job,
                    keep=references if job[0].startswith("reference run") else None,
                )
                for job in jobs
            ]
            for future in futures:
                add(future if isinstance(future, Check) else future.result())
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    if record_timing and not tamper and references:
        _record_timing(exercise, references, add)
    return result


def _record_timing(
    exercise: Exercise, references: list[Report], add: Callable[[Check], None]
) -> None:
    """Keep the reference's per-test times as the exercise's profile, if every run passed."""
    if not all(r.status is RunStatus.PASSED for r in references):
        return
    mode = "direct" if references[0].mode == "direct" else "isolated"
    path = timing.record(
        exercise,
        mode,
        [{t.name: t.duration for t in r.tests} for r in references],
        [{t.name: t.slowest_call for t in r.tests} for r in references],
    )
    where = str(path) if path else "not written (read-only exercise directory)"
    add(Check(exercise.slug, f"timing profile ({mode})", "recorded", where, True))


def _full_marks(score: float, max_score: float, status: RunStatus) -> bool:
    """The reference's bar: every test passed."""
    return status is RunStatus.PASSED and score == max_score


def _zero_no_error(score: float, max_score: float, status: RunStatus) -> bool:
    """The stub's bar: nothing scored, and no error of the grader's or the stub's own."""
    return score == 0 and status is RunStatus.FAILED


def _below_max(score: float, max_score: float, status: RunStatus) -> bool:
    """A mutant's bar: caught by at least one test."""
    return score < max_score


def _mutant_sources(mutants: list[Mutant]) -> tuple[dict[str, str], dict[str, str]]:
    """The module text of each mutant whose edits apply, by name; and, by name, why each
    other mutant cannot be built."""
    sources: dict[str, str] = {}
    broken: dict[str, str] = {}
    for mutant in mutants:
        try:
            sources[mutant.name] = mutant.source()
        except ExerciseInvalid as exc:
            broken[mutant.name] = str(exc)
    return sources, broken


def _stage_mutants(
    exercise: Exercise, tamper: bool = False, sources: dict[str, str] | None = None
) -> Path:
    """Write the reference and each mutant (``sources``: module text by mutant name; by
    default every mutant, ``ExerciseInvalid`` if one cannot be built) under the module's real
    file name, one folder each, with the tamperer appended when ``tamper``."""
    if sources is None:
        sources = {mutant.name: mutant.source() for mutant in exercise.mutants()}
    texts = {"reference": exercise.reference_path.read_text(encoding="utf-8"), **sources}
    suffix = "\n\n" + TAMPERER.read_text(encoding="utf-8") if tamper else ""
    root = Path(tempfile.mkdtemp(prefix="grader-mutants-"))
    for name, text in texts.items():
        (root / name).mkdir()
        (root / name / exercise.meta.module).write_text(text + suffix, encoding="utf-8")
    return root
