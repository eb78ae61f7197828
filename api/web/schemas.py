"""What the web page's own endpoints return (pydantic models, server to client only)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.models import Status
from api.schemas import SubmissionSummary


class Me(BaseModel):
    """Who the page is signed in as."""

    id: str = Field(description="The API key's id, or 'open' for open mode's one user.")
    name: str
    admin: bool = Field(description="Whether the operator view is open to this caller.")
    open_mode: bool = Field(description="Whether the service answers without a key.")


class StatementHtml(BaseModel):
    """An exercise's statement rendered from Markdown (raw HTML in it is shown as text)."""

    slug: str
    html: str


class AdminSubmission(SubmissionSummary):
    """A line of the operator's list of every submission."""

    owner: str = Field(description="The key id, or 'open'.")
    owner_name: str | None = Field(None, description="The key's name, if the key exists.")
    attempts: int
    error: str | None = None


class AdminSubmissionsPage(BaseModel):
    """A page of every caller's submissions, newest first."""

    data: list[AdminSubmission]
    count: int
    limit: int
    offset: int


class WorkerState(BaseModel):
    """The grading workers of this process."""

    size: int = Field(description="Workers started.")
    alive: int
    busy: int = Field(description="Gradings running now.")


class AdminOverview(BaseModel):
    """The service at a glance, for operators."""

    queue_depth: int = Field(description="Submissions waiting for a worker.")
    workers: WorkerState
    counts: dict[Status, int] = Field(description="Submissions by status, over all time.")
    recent_errors: list[AdminSubmission] = Field(
        description="The latest submissions whose grading failed (status error), newest first."
    )
    generated_at: datetime
