"""Turn stored rows into what clients get; wait for submissions to change."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import store
from api.errors import ApiError
from api.models import FINAL, Status, Submission
from api.schemas import SubmissionPublic, SubmissionSummary
from api.services import Services
from grader.report import PublicReport, RunStatus

#: How often a waiting request looks at the database even without a wake-up (a safety net,
#: and how often an event stream refreshes the queue position).
RECHECK = 1.0
#: Seconds between keep-alive comments on an idle event stream.
#: The longest an event stream stays open.
STREAM_LIMIT = 3600.0


def submission_public(session: Session, row: Submission) -> SubmissionPublic:
    """The full view of a submission for its owner (never the operators' full report)."""
    return SubmissionPublic(
        id=row.id,
        exercise=row.exercise,
        status=Status(row.status),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        attempts=row.attempts,
        queue_position=store.queue_position(session, row),
        error=row.error,
        report=PublicReport.model_validate_json(row.report) if row.report else None,
    )


def submission_summary(row: Submission) -> SubmissionSummary:
    """The list view of a submission."""
    return SubmissionSummary(
        id=row.id,
        exercise=row.exercise,
        status=Status(row.status),
        created_at=row.created_at,
        finished_at=row.finished_at,
        result=RunStatus(row.result) if row.result else None,
        score=row.score,
        max_score=row.max_score,
    )


def load_view(services: Services, owner: str, submission_id: str) -> SubmissionPublic:
    """The caller's submission, or a ``404`` (also for another caller's)."""
    with services.sessions() as session:
        row = store.get_owned(session, owner, submission_id)
        if row is None:
            raise ApiError(404, "submission_not_found", f"no submission {submission_id!r}")
        return submission_public(session, row)


async def wait_until_final(
    services: Services, owner: str, submission_id: str, seconds: float
) -> SubmissionPublic:
    """The submission once it is completed or failed, or as it is after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    with services.notifier.subscribe(submission_id) as changed:
        while True:
            changed.clear()  # before reading, so a change during the read is not missed
            view = await run_in_threadpool(load_view, services, owner, submission_id)
            remaining = deadline - loop.time()
            if view.status in FINAL or remaining <= 0:
                return view
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=min(remaining, RECHECK))
