"""The grading report: a versioned pydantic model, its public view, and its JSON Schema.

``ReportBase`` holds the fields every report has. ``Report`` is what the grader knows (for
operators and validation). ``PublicReport`` is what a candidate may see: never test source,
assertion details or expected values, and test names and hints only as the exercise's
visibility level allows (:mod:`grader.public` makes it from a full report by an allow-list).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

#: Bumped on any incompatible change to the report's shape.
SCHEMA_VERSION = "1.2"  # 1.1: test status "not_run"; 1.2: a test's slowest_call


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
    #: Never started: the whole run's time limit was reached before its turn.
    NOT_RUN = "not_run"


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
    slowest_call: float = Field(
        0.0,
        description="Grader-only: the test's longest single call into a sandbox, in seconds "
        "(isolated mode; 0 in direct mode). The timing profile keeps the reference's.",
    )


#: A report's kind of test result: :class:`TestResult` or :class:`PublicTestResult`.
TestT = TypeVar("TestT", bound=BaseModel)


class _RunFacts(BaseModel):
    """What every report says about the run: which grader, which exercise, how it ended."""

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


class _RunResults(BaseModel, Generic[TestT]):
    """What every report says the run produced: points by category, the tests, the output."""

    model_config = ConfigDict(extra="forbid")
    categories: list[CategoryScore]
    tests: list[TestT]
    output: str = ""


class ReportBase(_RunResults[TestT], _RunFacts, Generic[TestT]):
    """The fields the full and the public report share, declared once.

    Field order is the JSON's and the published schemas' order. Pydantic, like dataclasses,
    takes fields along the method resolution order from its far end: the run's facts, then its
    results. A report with fields of its own between the two (:class:`PublicReport` and its
    ``visibility``) declares them on a subclass of ``_RunFacts`` listed after this class among
    its bases. A unit test pins both reports' field order.
    """

    @property
    def passed(self) -> bool:
        """Whether every hidden test passed."""
        return self.status is RunStatus.PASSED


#: What the full report's published schema says of fields it shares with the public report,
#: whose published schema says nothing of them; both schemas stay as they were published.
_FULL_SCHEMA_DESCRIPTIONS = {
    "message": "Why the run as a whole failed, when it did.",
    "mode": "'direct' (trusted, no sandbox) or 'isolated'.",
    "sandbox": "The sandbox backend in isolated mode.",
    "output": "The submission's own stdout/stderr, capped.",
}


def _describe_shared_fields(schema: JsonDict) -> None:
    """Add :data:`_FULL_SCHEMA_DESCRIPTIONS` to the full report's JSON Schema."""
    properties = cast("dict[str, JsonDict]", schema["properties"])
    for name, description in _FULL_SCHEMA_DESCRIPTIONS.items():
        properties[name]["description"] = description


class Report(ReportBase[TestResult]):
    """The full result of grading one submission against an exercise's hidden suite."""

    model_config = ConfigDict(json_schema_extra=_describe_shared_fields)


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
    duration: float = Field(0.0, description="Seconds the test took, on the grader's clock.")


class _CandidateFacts(_RunFacts):
    """The run's facts as a candidate receives them: with the visibility level applied."""

    visibility: str


class PublicReport(ReportBase[PublicTestResult], _CandidateFacts):
    """The report a candidate receives: scores, and only what the visibility level allows."""


def report_schema(public: bool = False) -> dict[str, Any]:
    """The published JSON Schema of the full or the public report."""
    model = PublicReport if public else Report
    schema = model.model_json_schema()
    prefix = "public-" if public else ""
    schema["$id"] = f"https://hidden-grader.dev/schema/{prefix}report-{SCHEMA_VERSION}.json"
    return schema
