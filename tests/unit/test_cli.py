"""The ``grader`` command line: output when piped, exit codes, and golden text reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app
from grader.exercise import Exercise
from grader.harness.supervisor import DirectRunner
from grader.validation import validate_exercise

from ..conftest import FIXTURE_EXERCISES
from ..golden import check_golden

runner = CliRunner()
FIX = ["--exercises", str(FIXTURE_EXERCISES)]


def grader(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point, as a user would."""
    return subprocess.run([sys.executable, "-c", "from grader.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_list_prints_one_line_per_exercise_when_piped() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "slug\ttitle\tdifficulty\tsummary"
    assert [line.split("\t")[0] for line in lines[1:]] == [
        "circuit-breaker", "lru-cache", "skip-list", "token-bucket"]


def test_show_prints_the_statement() -> None:
    result = runner.invoke(app, ["show", "adder", *FIX])
    assert result.exit_code == 0
    assert result.stdout.startswith("# Adder")


def test_start_copies_stub_tests_and_statement(tmp_path: Path) -> None:
    target = tmp_path / "work"
    result = runner.invoke(app, ["start", "adder", str(target), *FIX])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "adder.py", "test_adder.py"]
    again = runner.invoke(app, ["start", "adder", str(target), *FIX])
    assert again.exit_code == 2
    assert "would overwrite" in again.output


def test_visible_tests_fail_on_the_stub_and_pass_when_solved(tmp_path: Path, adder: Exercise) -> None:
    target = tmp_path / "work"
    runner.invoke(app, ["start", "adder", str(target), *FIX])
    assert grader("test", str(target)).returncode == 1
    (target / "adder.py").write_text(adder.reference_path.read_text())
    assert grader("test", str(target)).returncode == 0


def test_grade_exit_codes_and_json(adder: Exercise, tmp_path: Path) -> None:
    passed = grader("grade", "adder", str(adder.reference_path), "--sandbox", "none",
                    "--format", "json", *FIX)
    assert passed.returncode == 0, passed.stderr
    report = json.loads(passed.stdout)
    assert (report["status"], report["score"], report["visibility"]) == ("passed", 100.0, "hints")
    assert "detail" not in passed.stdout
    failed = grader("grade", "adder", str(adder.stub_path), "--sandbox", "none", *FIX)
    assert failed.returncode == 1


def test_grade_text_report_is_golden(tmp_path: Path) -> None:
    module = tmp_path / "adder.py"
    module.write_text("def add(a, b):\n    return a +\n")
    result = grader("grade", "adder", str(module), "--sandbox", "none", *FIX)
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if not line.startswith("adder: error")]
    check_golden("reports/syntax_error.txt", "\n".join(lines) + "\n")
    assert result.stdout.startswith("adder: error  score 0/100 (0.0%)")


def test_grade_failing_text_lists_failures_with_hints(adder: Exercise, tmp_path: Path) -> None:
    module = tmp_path / "adder.py"
    module.write_text(adder.reference_path.read_text().replace("x >= t", "x > t"))
    result = grader("grade", "adder", str(module), "--sandbox", "none", *FIX)
    assert result.returncode == 1
    body = result.stdout.split("\n", 1)[1]
    check_golden("reports/failed.txt", body)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grade", "nope", "x.py", *FIX], "error: unknown exercise 'nope'; known: adder"),
        (["show", "nope", *FIX], "error: unknown exercise 'nope'"),
        (["list", "--exercises", "/nonexistent/dir"], "error: exercise directory not found"),
    ],
)
def test_grader_faults_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = grader(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_exits_2() -> None:
    assert grader("grade").returncode == 2


def test_schema_prints_json() -> None:
    result = runner.invoke(app, ["schema"])
    assert json.loads(result.stdout)["title"] == "Report"


def test_validate_reports_every_check(adder: Exercise) -> None:
    result = validate_exercise(adder, DirectRunner, runs=2, min_tests=5, min_mutants=2)
    assert result.ok, [c for c in result.checks if not c.ok]
    subjects = [c.subject for c in result.checks]
    assert subjects[:5] == ["layout", "hidden tests", "mutants", "visible tests on reference",
                            "visible tests on stub"]
    assert "mutant strict_boundary" in subjects and "stub" in subjects
    killed = {c.subject: c.result for c in result.checks if c.subject.startswith("mutant ")}
    assert killed["mutant subtracts"].endswith("failed; killed by test_add_integers")
    assert killed["mutant strict_boundary"].endswith("killed by test_ticks_since_counts_boundary")


def test_validate_cli_fails_when_the_suite_is_too_small() -> None:
    result = grader("validate", "adder", "--runs", "1", *FIX)
    assert result.returncode == 1
    assert "adder\thidden tests\t>= 25\t5\tFAIL" in result.stdout


def test_validate_catches_a_mutant_that_survives(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "adder"
    shutil.copytree(FIXTURE_EXERCISES / "adder", root)
    with (root / "mutants.toml").open("a") as toml:
        toml.write('\n[[mutant]]\nname = "harmless"\nbug = "none really."\n'
                   'edit = [{ replace = "The sum of a and b.", with = "a + b" }]\n')
    result = validate_exercise(Exercise(root), DirectRunner, runs=1, min_tests=1, min_mutants=1)
    survivor = next(c for c in result.checks if c.subject == "mutant harmless")
    assert not survivor.ok and not result.ok
    assert survivor.result == "100/100 passed; survived every test"


def test_validate_in_a_sandbox_demands_that_both_modes_agree(adder: Exercise) -> None:
    from grader.harness.supervisor import ChildRunner

    result = validate_exercise(adder, lambda: ChildRunner(backend="process"), runs=1,
                               min_tests=5, min_mutants=2, compare_direct=True)
    assert result.ok, [c for c in result.checks if not c.ok]
    graded = [c for c in result.checks if c.subject == "stub" or c.subject.startswith("mutant ")]
    assert graded and all(c.result.endswith("; direct agrees") for c in graded)


def test_a_broken_command_plugin_does_not_break_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer

    import grader.cli as cli

    class Broken:
        name = "service"

        def load(self) -> None:
            raise ImportError("No module named 'api.commands'")

    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [Broken()])
    fresh = typer.Typer()
    cli._register(fresh)
    assert "the 'service' commands are unavailable" in capsys.readouterr().err
    assert CliRunner().invoke(fresh, ["list"]).exit_code == 0


class ScriptedRunner:
    """A suite runner whose n-th run fails the tests named in ``failures[n]`` (last repeats)."""

    mode = "scripted"

    def __init__(self, *failures: set[str]) -> None:
        self.failures, self.calls = list(failures), 0

    def run(self, exercise, submission_dir, tests):  # type: ignore[no-untyped-def]
        from grader.harness.runner import SuiteOutcome
        from grader.report import TestStatus

        failing = self.failures[min(self.calls, len(self.failures) - 1)]
        self.calls += 1
        for test in tests:
            test.status = TestStatus.FAILED if test.name in failing else TestStatus.PASSED
        return SuiteOutcome(records=tests)


def test_modes_agree_when_a_racy_mutant_can_score_the_same_in_both(adder: Exercise) -> None:
    from grader.submission import from_path
    from grader.validation import _modes_agree, grade

    racy = {"test_add_integers", "test_add_negative"}
    isolated = ScriptedRunner(racy)
    direct = ScriptedRunner({"test_add_integers"}, {"test_add_integers"}, racy)
    first = grade(adder, from_path(adder.reference_path, "adder.py"), isolated)
    agree, note = _modes_agree(adder, adder.reference_path, isolated, direct, first)
    assert agree and note == "direct agrees (its score varies from run to run)"


def test_modes_disagree_when_their_scores_never_meet(adder: Exercise) -> None:
    from grader.submission import from_path
    from grader.validation import AGREEMENT_RETRIES, _modes_agree, grade

    isolated = ScriptedRunner({"test_add_integers"})
    direct = ScriptedRunner({"test_add_integers", "test_add_negative"})
    first = grade(adder, from_path(adder.reference_path, "adder.py"), isolated)
    agree, note = _modes_agree(adder, adder.reference_path, isolated, direct, first)
    assert not agree and note == "direct differs: 60"
    assert direct.calls == 1 + AGREEMENT_RETRIES
