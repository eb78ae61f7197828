"""The harness children's bytecode cache (``grader.harness.launch.bytecode_dir``).

Children compile the grader's modules and pytest rewrites the hidden tests' asserts; the
cache keeps both across gradings. It must never serve stale code (an edited hidden test is
graded as edited), never fill up with a file per submission, and stay private.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.exercise import Exercise
from grader.grading import grade
from grader.harness import launch
from grader.harness.supervisor import DirectRunner
from grader.settings import grader_settings
from grader.submission import from_path

from ..conftest import FIXTURE_EXERCISES


@pytest.fixture
def cache_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Lets a test set ``GRADER_BYTECODE_DIR``; the settings are read again, and again after."""
    grader_settings.cache_clear()
    launch.bytecode_dir.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    grader_settings.cache_clear()
    launch.bytecode_dir.cache_clear()


def test_children_read_and_write_bytecode_in_the_private_cache(
    cache_setting: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache = tmp_path / "cache" / "bytecode"
    cache_setting.setenv("GRADER_BYTECODE_DIR", str(cache))
    env = launch.child_env()
    assert env["PYTHONPYCACHEPREFIX"] == str(cache.resolve())
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert cache.stat().st_mode & 0o777 == 0o700
    assert launch.child_env(bytecode=False)["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "PYTHONPYCACHEPREFIX" not in launch.child_env(bytecode=False)


def test_the_cache_can_be_turned_off(cache_setting: pytest.MonkeyPatch) -> None:
    cache_setting.setenv("GRADER_BYTECODE_DIR", "off")
    env = launch.child_env()
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "PYTHONPYCACHEPREFIX" not in env


def test_an_unwritable_cache_means_no_cache(
    cache_setting: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache_setting.setenv("GRADER_BYTECODE_DIR", str(blocker / "bytecode"))
    assert launch.bytecode_dir() is None
    assert launch.child_env()["PYTHONDONTWRITEBYTECODE"] == "1"


def test_an_edited_hidden_test_is_graded_as_edited_and_submissions_leave_nothing(
    cache_setting: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache = tmp_path / "bytecode"
    cache_setting.setenv("GRADER_BYTECODE_DIR", str(cache))
    root = tmp_path / "adder"
    shutil.copytree(FIXTURE_EXERCISES / "adder", root)
    exercise = Exercise(root)
    submission = from_path(exercise.reference_path, exercise.meta.module)

    first = grade(exercise, submission, DirectRunner())
    assert first.passed
    rewritten = sorted(p.name for p in cache.rglob("*-pytest-*.pyc") if root.name in p.parts)
    tail = f".{sys.implementation.cache_tag}-pytest-{pytest.__version__}.pyc"
    assert rewritten == [f"test_basics{tail}", f"test_time{tail}"]
    # The staged submission (a fresh directory per grading) left no bytecode behind; the
    # reference, at a path of its own, may.
    staged = list(cache.rglob(f"{Path(exercise.meta.module).stem}.*.pyc"))
    assert all("reference" in p.parts for p in staged), staged

    hidden = root / "hidden" / "test_basics.py"
    hidden.write_text(hidden.read_text().replace("== 5", "== 6"))
    second = grade(exercise, submission, DirectRunner())
    failed = {t.name for t in second.tests if t.status.value != "passed"}
    assert failed == {"test_add_integers"}
