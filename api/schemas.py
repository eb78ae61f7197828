"""What clients send and what they get back, as pydantic models (split by direction)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.models import Status
from grader.report import PublicReport, RunStatus

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


# --- sent by clients -------------------------------------------------------------------------


class SubmissionCreate(BaseModel):
    """A submission: the exercise and the module's text, keyed by its file name."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"exercise": "lru-cache", "files": {"lru_cache.py": "class LRUCache:\n    ...\n"}}
            ]
        },
    )
    exercise: str = Field(min_length=1, max_length=100, pattern=SLUG_PATTERN)
    files: dict[str, str] = Field(
        description="File name -> UTF-8 text. Exactly the exercise's module, e.g. lru_cache.py."
    )


# --- returned to clients ---------------------------------------------------------------------


class ErrorDetail(BaseModel):
    """What went wrong: a stable code, a sentence, and structured details when useful."""

    code: str = Field(examples=["bad_file_name"])
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class SubmissionPublic(BaseModel):
    """A submission as its owner sees it; ``report`` once it is ``completed``."""

    id: str
    exercise: str
    status: Status
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = Field(description="Gradings started (more than 1 after a restart).")
    queue_position: int | None = Field(None, description="1 = next to be graded; when queued.")
    error: str | None = Field(None, description="Why grading failed, when status is error.")
    report: PublicReport | None = None


class SubmissionSummary(BaseModel):
    """One line of a submission list."""

    id: str
    exercise: str
    status: Status
    created_at: datetime
    finished_at: datetime | None = None
    result: RunStatus | None = Field(None, description="The report's status, once completed.")
    score: float | None = None
    max_score: float | None = None


class SubmissionsPage(BaseModel):
    """A page of the caller's submissions, newest first."""

    data: list[SubmissionSummary]
    count: int = Field(description="How many submissions match, over all pages.")
    limit: int
    offset: int


class ExerciseSummary(BaseModel):
    """An exercise in the catalogue."""

    slug: str
    title: str
    summary: str
    difficulty: str
    module: str = Field(description="The one file a submission contains.")


class ExerciseDetail(ExerciseSummary):
    """An exercise's public material; never its hidden tests, reference or mutants."""

    visibility: str = Field(description="What reports show of hidden tests: scores|names|hints.")
    categories: dict[str, float] = Field(description="Points per category of hidden tests.")
    test_timeout: float
    run_timeout: float
    statement: str = Field(description="The README (Markdown).")
    stub: str = Field(description="The module to start from.")
    visible_tests: dict[str, str] = Field(description="Visible test files by name.")


class ExercisesPage(BaseModel):
    """Every exercise."""

    data: list[ExerciseSummary]
    count: int


class Health(BaseModel):
    """Liveness: the process answers."""

    status: str = "ok"


class Readiness(BaseModel):
    """Readiness: each dependency and how it is."""

    status: str = Field(description="ready or not_ready")
    checks: dict[str, str]
