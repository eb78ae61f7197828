"""Loading exercises and the catalogue: valid data loads, bad data fails with a clear message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.catalogue import Catalogue, default_exercises_dir
from grader.errors import ExerciseInvalid, ExerciseNotFound
from grader.exercise import Exercise, Visibility

from ..conftest import FIXTURE_EXERCISES

SHIPPED = ["circuit-breaker", "lru-cache", "skip-list", "token-bucket"]


def copy_adder(tmp_path: Path) -> Path:
    """A writable copy of the fixture exercise."""
    target = tmp_path / "adder"
    shutil.copytree(FIXTURE_EXERCISES / "adder", target)
    return target


def test_shipped_catalogue_has_the_four_exercises() -> None:
    catalogue = Catalogue(default_exercises_dir())
    assert catalogue.slugs() == SHIPPED
    for exercise in catalogue.all():
        assert exercise.check_layout() == []
        assert exercise.meta.module.endswith(".py")


def test_metadata_is_parsed(fixture_catalogue: Catalogue) -> None:
    exercise = fixture_catalogue.get("adder")
    assert exercise.meta.title == "Adder"
    assert exercise.meta.visibility is Visibility.HINTS
    assert exercise.meta.categories == {"basics": 60, "time": 40}
    assert exercise.meta.limits.test_timeout == 2.0
    assert exercise.module_name == "adder"


def test_unknown_slug_names_the_known_ones(fixture_catalogue: Catalogue) -> None:
    with pytest.raises(ExerciseNotFound, match="unknown exercise 'nope'; known: adder"):
        fixture_catalogue.get("nope")


def test_slug_cannot_escape_the_catalogue(fixture_catalogue: Catalogue) -> None:
    with pytest.raises(ExerciseNotFound):
        fixture_catalogue.get("../adder")


def test_operator_directory_or_the_shipped_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalogue takes its directory from its caller (the command line and the service
    resolve ``GRADER_EXERCISES_DIR``, see ``test_settings``); it reads no variable itself."""
    assert Catalogue(FIXTURE_EXERCISES).slugs() == ["adder"]
    monkeypatch.setenv("GRADER_EXERCISES_DIR", str(FIXTURE_EXERCISES))
    assert Catalogue().slugs() == SHIPPED


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('difficulty = "easy"', 'difficulty = "trivial"'), "difficulty"),
        (lambda t: t.replace("basics = 60", "basics = -1"), "positive points: basics"),
        (lambda t: t.replace('module = "adder.py"', 'module = "../adder.py"'), "module"),
        (lambda t: "surprise = 1\n" + t, "surprise: Extra inputs are not permitted"),
        (lambda t: t.replace("[limits]", "[limits"), "not valid TOML"),
        (lambda t: t.replace('canary = "GRADER-CANARY-adder-5bd1c0ffee5bd1c0"', ""), "canary"),
    ],
)
def test_bad_metadata_is_a_clear_error(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    root = copy_adder(tmp_path)
    toml = root / "exercise.toml"
    toml.write_text(edit(toml.read_text()))
    with pytest.raises(ExerciseInvalid, match=message):
        Exercise(root)


def test_slug_must_match_folder(tmp_path: Path) -> None:
    root = copy_adder(tmp_path)
    root.rename(tmp_path / "other")
    with pytest.raises(ExerciseInvalid, match="differs from folder name"):
        Exercise(tmp_path / "other")


def test_layout_problems_are_listed(tmp_path: Path) -> None:
    root = copy_adder(tmp_path)
    (root / "reference" / "adder.py").unlink()
    hidden = root / "hidden" / "test_time.py"
    hidden.write_text(hidden.read_text().replace("GRADER-CANARY-adder-5bd1c0ffee5bd1c0", "x"))
    (root / "mutants").mkdir()
    (root / "mutants" / "stray.py").write_text("def add(a, b):\n    return 0\n")
    with (root / "mutants.toml").open("a") as toml:
        toml.write('\n[[mutant]]\nname = "gone"\nbug = "its file is missing."\nfile = "gone.py"\n')
    problems = Exercise(root).check_layout()
    assert "missing reference/adder.py" in problems
    assert "hidden/test_time.py lacks the canary string" in problems
    assert "mutants/stray.py is not listed in mutants.toml" in problems
    assert "mutant gone: missing mutants/gone.py" in problems


def test_missing_mutants_toml_is_a_layout_problem(tmp_path: Path) -> None:
    root = copy_adder(tmp_path)
    (root / "mutants.toml").unlink()
    assert Exercise(root).mutants() == []
    assert Exercise(root).check_layout() == ["missing mutants.toml"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('with = "x > t"', 'wiht = "x > t"'),
         r"mutant\.0 \(strict_boundary\)\.edit\.0\.with: Field required"),
        (lambda t: t.replace('bug = "subtracts instead of adding."', ""),
         r"mutant\.1 \(subtracts\)\.bug: Field required"),
        (lambda t: t.replace('name = "subtracts"', 'name = "strict_boundary"'),
         "mutant names must be unique: strict_boundary"),
        (lambda t: t.replace('name = "subtracts"', 'name = "reference"'), "'reference' is reserved"),
        (lambda t: t.replace('name = "subtracts"', 'name = "Sub tracts"'), r"mutant\.1 .*name"),
        (lambda t: t + 'file = "also.py"\n', "give either edits .* or a whole file"),
        (lambda t: t.replace('edit = [{ replace = "return a + b", with = "return a - b" }]', ""),
         "give either edits .* or a whole file"),
        (lambda t: t.replace('[[mutant]]', '[[mutants]]', 1), "mutants: Extra inputs are not permitted"),
        (lambda t: t.replace('edit = [{', 'edit = [', 1), "not valid TOML"),
    ],
)
def test_bad_mutants_toml_is_a_clear_error(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    root = copy_adder(tmp_path)
    toml = root / "mutants.toml"
    toml.write_text(edit(toml.read_text()))
    with pytest.raises(ExerciseInvalid, match=message):
        Exercise(root).mutants()
    assert any("mutants.toml" in problem for problem in Exercise(root).check_layout())


def test_mutants_carry_their_bug(adder: Exercise) -> None:
    bugs = {m.name: m.bug for m in adder.mutants()}
    assert bugs == {"strict_boundary": "a tick exactly at t is not counted.",
                    "subtracts": "subtracts instead of adding."}


def test_suite_hash_changes_with_the_suite(tmp_path: Path) -> None:
    root = copy_adder(tmp_path)
    before = Exercise(root).suite_hash
    (root / "hidden" / "test_basics.py").write_text(
        (root / "hidden" / "test_basics.py").read_text() + "\n# changed\n")
    assert Exercise(root).suite_hash != before
    assert before.startswith("sha256:")
