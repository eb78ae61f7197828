"""The grader standing in for an Exercism test runner: ``grader exercism-runner SLUG IN OUT``.

Exercism's interface: the runner gets the slug, a folder with the solution and a folder to
write ``results.json`` to, and exits 0 whenever it ran, whatever the tests did.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from grader.cli import app
from grader.exercise import Exercise

from ..conftest import FIXTURE_EXERCISES

runner = CliRunner()
FIX = ["--exercises", str(FIXTURE_EXERCISES), "--sandbox", "none"]


def run(slug: str, solution: Path, out: Path) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["exercism-runner", slug, f"{solution}/", f"{out}/", *FIX])
    return result.exit_code, json.loads((out / "results.json").read_text())


def test_failing_tests_are_results_not_a_runner_failure(adder: Exercise, tmp_path: Path) -> None:
    solution = tmp_path / "solution"
    solution.mkdir()
    shutil.copyfile(adder.stub_path, solution / "adder.py")
    shutil.copyfile(adder.visible_tests()[0], solution / "test_adder.py")  # Exercism sends both
    code, results = run("adder", solution, tmp_path / "out")
    assert code == 0
    assert (results["version"], results["status"], results["message"]) == (3, "fail", None)
    assert [t["status"] for t in results["tests"]] == ["fail"] * 5
    assert all(t["test_code"].startswith("# Hidden test") for t in results["tests"])
    assert results["tests"][0]["message"].startswith("Expected: add returns the sum")


def test_a_passing_solution_passes(adder: Exercise, tmp_path: Path) -> None:
    solution = tmp_path / "solution"
    solution.mkdir()
    shutil.copyfile(adder.reference_path, solution / "adder.py")
    code, results = run("adder", solution, tmp_path / "out")
    assert (code, results["status"]) == (0, "pass")
    assert [t["status"] for t in results["tests"]] == ["pass"] * 5


def test_a_missing_solution_file_is_the_students_error(tmp_path: Path) -> None:
    solution = tmp_path / "solution"
    solution.mkdir()
    (solution / "add.py").write_text("def add(a, b): return a + b\n")
    code, results = run("adder", solution, tmp_path / "out")
    assert code == 0
    assert results["status"] == "error"
    assert results["message"] == (
        "No adder.py in the solution: the file must be named adder.py. It holds add.py.")
    assert str(tmp_path) not in results["message"]  # no runner paths for the student


def test_a_syntax_error_is_an_error_result(tmp_path: Path) -> None:
    solution = tmp_path / "solution"
    solution.mkdir()
    (solution / "adder.py").write_text("def add(a, b):\n    return a +\n")
    code, results = run("adder", solution, tmp_path / "out")
    assert (code, results["status"]) == (0, "error")
    assert results["message"].startswith("syntax error in adder.py at line 2")


def test_an_unknown_exercise_is_a_runner_failure(tmp_path: Path) -> None:
    code, results = run("nope", tmp_path, tmp_path / "out")
    assert code == 2
    assert results["status"] == "error"
    assert "unknown exercise 'nope'" in results["message"]
