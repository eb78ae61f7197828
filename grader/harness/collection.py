"""Collecting a hidden suite: its tests with their categories and hints, checked against the
exercise's declared categories, before any submission is involved."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from grader.errors import ExerciseInvalid
from grader.exercise import Exercise
from grader.harness.events import SuiteCollected
from grader.harness.launch import child_command, child_env, read_events, write_spec
from grader.scoring import TestRecord


def collect_suite(exercise: Exercise) -> list[TestRecord]:
    """List the hidden suite's tests with their categories and hints, without any submission."""
    with tempfile.TemporaryDirectory(prefix="grader-collect-") as tmp:
        results = Path(tmp) / "collect.jsonl"
        spec = write_spec(Path(tmp), exercise, results=str(results), collect_only=True)
        proc = subprocess.run(
            child_command(spec),
            env=child_env(),
            cwd=tmp,
            capture_output=True,
            timeout=120,
            check=False,
        )
        events, _ = read_events(results, 0)
    collected = [e for e in events if isinstance(e, SuiteCollected)]
    if proc.returncode != 0 or not collected:
        tail = (
            proc.stdout.decode(errors="replace")[-2000:]
            + proc.stderr.decode(errors="replace")[-2000:]
        )
        raise ExerciseInvalid(f"{exercise.slug}: the hidden suite does not collect:\n{tail}")
    tests = [
        TestRecord(
            nodeid=t.nodeid,
            name=t.name,
            category=t.category,
            hint=t.hint,
            uses_reference=t.uses_reference,
        )
        for t in collected[-1].tests
    ]
    _check_categories(exercise, tests)
    return tests


def _check_categories(exercise: Exercise, tests: list[TestRecord]) -> None:
    """Every hidden test needs a declared category and a unique name."""
    declared = exercise.meta.categories
    for test in tests:
        if test.category not in declared:
            raise ExerciseInvalid(
                f"{exercise.slug}: {test.nodeid} has category {test.category!r}, "
                f"not one of {sorted(declared)}"
            )
    names = [t.name for t in tests]
    if len(set(names)) != len(names):
        raise ExerciseInvalid(f"{exercise.slug}: hidden test names must be unique")
