"""Mutants as edits of the reference: applying them, reporting edits that no longer apply, and
the ``grader mutant`` commands."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.catalogue import Catalogue, default_exercises_dir
from grader.cli import app
from grader.errors import ExerciseInvalid
from grader.exercise import Edit, Exercise, apply_edits
from grader.harness.supervisor import DirectRunner
from grader.validation import _stage_mutants, validate_exercise

from ..conftest import FIXTURE_EXERCISES

runner = CliRunner()
FIX = ["--exercises", str(FIXTURE_EXERCISES)]
#: Mutants whose changes are most of the module, kept as whole files under mutants/.
WHOLE_FILE_MUTANTS = {("lru-cache", "list_recency")}


def edit(replace: str, with_: str) -> Edit:
    return Edit.model_validate({"replace": replace, "with": with_})


def broken_adder(tmp_path: Path, replace: str) -> Path:
    """A copy of the fixture exercise whose ``subtracts`` mutant replaces ``replace``."""
    root = tmp_path / "adder"
    shutil.copytree(FIXTURE_EXERCISES / "adder", root)
    toml = root / "mutants.toml"
    toml.write_text(toml.read_text().replace('replace = "return a + b"', f'replace = "{replace}"'))
    return root


def test_edits_apply_to_the_text_they_were_written_for() -> None:
    text = "def f(a, b):\n    return a + b\n"
    assert apply_edits(text, [edit("a + b", "a - b"), edit("def f", "def g")]) == (
        "def g(a, b):\n    return a - b\n")


@pytest.mark.parametrize(("replace", "times"), [("a * b", "nowhere in"), ("a", "2 times in")])
def test_an_edit_must_match_exactly_once(replace: str, times: str) -> None:
    text = "def f(a, b):\n    return a + b\n"
    with pytest.raises(ExerciseInvalid) as caught:
        apply_edits(text, [edit("return", "return"), edit(replace, "x")], "oops")
    assert str(caught.value) == (
        f"mutant oops: edit 2 (replace {replace!r}) matches {times} the reference; "
        "it must match exactly once")


def test_overlapping_matches_count_twice() -> None:
    with pytest.raises(ExerciseInvalid, match=r"edit 1 .* 2 times in"):
        apply_edits("aaa", [edit("aa", "b")])


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(ExerciseInvalid, match="mutant m: edits 1 and 2 overlap"):
        apply_edits("return a + b\n", [edit("return a", "x"), edit("a + b", "y")], "m")


def test_a_long_edit_is_quoted_short() -> None:
    with pytest.raises(ExerciseInvalid, match=r"replace 'first line\.\.\.'\)"):
        apply_edits("text", [edit("    first line\n    second line\n", "")])


def test_edit_mutant_source_is_the_reference_edited(adder: Exercise) -> None:
    mutant = next(m for m in adder.mutants() if m.name == "subtracts")
    reference = adder.reference_path.read_text()
    assert mutant.path is None and mutant.source() == reference.replace("a + b", "a - b")


def test_a_mutant_whose_edit_no_longer_applies_names_mutant_and_edit(tmp_path: Path) -> None:
    mutant = next(m for m in Exercise(broken_adder(tmp_path, "return a * b")).mutants()
                  if m.name == "subtracts")
    with pytest.raises(ExerciseInvalid, match=r"mutant subtracts: edit 1 \(replace 'return a \* b'\)"
                                              " matches nowhere in the reference"):
        mutant.source()


def test_validate_reports_a_broken_mutant_as_a_failed_check(tmp_path: Path) -> None:
    exercise = Exercise(broken_adder(tmp_path, "a"))
    result = validate_exercise(exercise, DirectRunner, runs=1, min_tests=5, min_mutants=2)
    failed = [c for c in result.checks if not c.ok]
    assert [c.subject for c in failed] == ["mutant subtracts"]
    assert "edit 1 (replace 'a') matches" in failed[0].result
    others = {c.subject: c for c in result.checks}
    assert others["mutant strict_boundary"].ok and others["stub"].ok


def test_a_reference_that_misses_full_marks_names_the_tests_it_did_not_pass(
    tmp_path: Path,
) -> None:
    """The evidence is in the check itself (CI shows little else of a failed validation)."""
    exercise = Exercise(broken_adder(tmp_path, "return a + b"))
    reference = exercise.reference_path
    reference.write_text(reference.read_text().replace("return a + b", "return a - b"))
    result = validate_exercise(exercise, DirectRunner, runs=1, min_tests=5, min_mutants=2)
    run = next(c for c in result.checks if c.subject == "reference run 1/1")
    assert not run.ok
    assert "; not passed: test_add_integers (failed: " in run.result


def test_tampered_staging_appends_the_tamperer_to_edited_mutants(adder: Exercise) -> None:
    staged = _stage_mutants(adder, tamper=True)
    try:
        text = (staged / "subtracts" / "adder.py").read_text()
        assert sorted(p.name for p in staged.iterdir()) == [
            "reference", "strict_boundary", "subtracts"]
    finally:
        shutil.rmtree(staged)
    assert text.startswith(adder.reference_path.read_text().replace("a + b", "a - b"))
    assert "tamper" in text[len(adder.reference_path.read_text()):]


def test_mutant_show_prints_the_bug_and_a_diff() -> None:
    result = runner.invoke(app, ["mutant", "show", "adder", "subtracts", *FIX])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:4] == [
        "Bug: subtracts instead of adding.", "", "--- reference/adder.py", "+++ mutant subtracts"]
    changed = [line for line in result.stdout.splitlines()[4:] if line[:1] in "+-"]
    assert changed == ["-    return a + b", "+    return a - b"]


def test_mutant_show_names_the_known_mutants_for_an_unknown_one() -> None:
    result = runner.invoke(app, ["mutant", "show", "adder", "nope", *FIX])
    assert result.exit_code == 2
    assert "no mutant 'nope' in adder; known: strict_boundary, subtracts" in result.output


def test_mutant_list_when_piped() -> None:
    result = runner.invoke(app, ["mutant", "list", "adder", *FIX])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "mutant\tlines\tbug",
        "strict_boundary\t+1 -1\ta tick exactly at t is not counted.",
        "subtracts\t+1 -1\tsubtracts instead of adding.",
    ]


def test_mutant_list_flags_an_edit_that_does_not_apply(tmp_path: Path) -> None:
    root = broken_adder(tmp_path, "nowhere")
    result = runner.invoke(app, ["mutant", "list", "adder", "--exercises", str(root.parent)])
    assert "subtracts\tdoes not apply\t" in result.stdout


def _code(source: str) -> str:
    """The module's code without its docstring."""
    tree = ast.parse(source)
    if tree.body and isinstance(tree.body[0], ast.Expr):
        tree.body = tree.body[1:]
    return ast.dump(tree)


@pytest.mark.parametrize("slug", Catalogue(default_exercises_dir()).slugs())
def test_every_shipped_mutant_applies_and_changes_the_code(slug: str) -> None:
    exercise = Catalogue(default_exercises_dir()).get(slug)
    reference = _code(exercise.reference_path.read_text())
    mutants = exercise.mutants()
    assert len(mutants) >= 8 and exercise.check_layout() == []
    for mutant in mutants:
        assert mutant.bug and _code(mutant.source()) != reference, mutant.name
        assert (mutant.path is not None) == ((slug, mutant.name) in WHOLE_FILE_MUTANTS)
