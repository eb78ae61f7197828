"""What every suite runner returns, and the interface the grading layer calls."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from grader.exercise import Exercise
from grader.scoring import TestRecord


@dataclass
class SuiteOutcome:
    """How a hidden suite run went: final per-test records plus run-level facts."""

    records: list[TestRecord]
    error: str = ""
    timed_out: bool = False
    output: str = ""
    sandbox: str | None = None


class SuiteRunner(Protocol):
    """Runs an exercise's hidden suite against a staged submission."""

    mode: str

    def run(
        self, exercise: Exercise, submission_dir: Path, tests: list[TestRecord]
    ) -> SuiteOutcome:
        """Run ``tests`` against the module in ``submission_dir``; never raises for bad code."""
        ...
