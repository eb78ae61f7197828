"""The grading report: a versioned pydantic model, its public view, and its JSON Schema.

``Report`` is what the grader knows (for operators and validation). ``PublicReport`` is what a
candidate may see: never test source, assertion details or expected values, and test names and
hints only as the exercise's visibility level allows.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: Bumped on any incompatible change to the report's shape.
SCHEMA_VERSION = "1.0"


class RunStatus(StrEnum):
    """How a grading run ended as a whole."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"


class TestStatus(StrEnum):
    """How one hidden test ended."""

    __test__ = False  # not a pytest test class, despite its name

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"


class CategoryScore(BaseModel):
    """Points earned in one category."""

    model_config = ConfigDict(extra="forbid")
    name: str
    score: float
    max_score: float
    passed: int
    total: int


class TestResult(BaseModel):
    """One hidden test's outcome, with grader-only detail."""

    __test__ = False

    model_config = ConfigDict(extra="forbid")
    name: str
    category: str
    points: float
    max_points: float
    status: TestStatus
    message: str = Field("", description="Short, candidate-safe description of the failure.")
    hint: str = Field("", description="What the test expects, in words (its docstring).")
    duration: float = 0.0
    detail: str = Field("", description="Grader-only failure detail; never shown to candidates.")


class Report(BaseModel):
    """The full result of grading one submission against an exercise's hidden suite."""

    model_config = ConfigDict(extra="forbid")
    schema_version: str = SCHEMA_VERSION
    grader_version: str
    exercise: str
    status: RunStatus
    score: float
    max_score: float
    message: str = Field("", description="Why the run as a whole failed, when it did.")
    mode: str = Field(description="'direct' (trusted, no sandbox) or 'isolated'.")
    sandbox: str | None = Field(None, description="The sandbox backend in isolated mode.")
    suite_hash: str
    started_at: datetime
    duration: float
    categories: list[CategoryScore]
    tests: list[TestResult]
    output: str = Field("", description="The submission's own stdout/stderr, capped.")

    @property
    def passed(self) -> bool:
        """Whether every hidden test passed."""
        return self.status is RunStatus.PASSED


class PublicTestResult(BaseModel):
    """One hidden test as a candidate may see it."""

    model_config = ConfigDict(extra="forbid")
    name: str | None
    category: str
    points: float
    max_points: float
    status: TestStatus
    message: str | None = None
    hint: str | None = None


class PublicReport(BaseModel):
    """The report a candidate receives: scores, and only what the visibility level allows."""

    model_config = ConfigDict(extra="forbid")
    schema_version: str = SCHEMA_VERSION
    grader_version: str
    exercise: str
    status: RunStatus
    score: float
    max_score: float
    message: str = ""
    mode: str
    sandbox: str | None = None
    suite_hash: str
    started_at: datetime
    duration: float
    visibility: str
    categories: list[CategoryScore]
    tests: list[PublicTestResult]
    output: str = ""


def report_schema(public: bool = False) -> dict[str, Any]:
    """The published JSON Schema of the full or the public report."""
    model = PublicReport if public else Report
    schema = model.model_json_schema()
    prefix = "public-" if public else ""
    schema["$id"] = f"https://hidden-grader.dev/schema/{prefix}report-{SCHEMA_VERSION}.json"
    return schema
