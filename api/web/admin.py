"""``/v1/admin/*``: the operator view's data (every submission, the queue, the workers).

Only keys created with ``grader keys create --admin`` may read it; others get ``403``. Reads
only: the rows the store writes and the queue's and the pool's own counters.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.deps import CallerDep, ServicesDep, SessionDep
from api.errors import ERROR_RESPONSES, ApiError
from api.keys import Caller
from api.models import ApiKey, Status, Submission, utcnow
from api.schemas import ErrorBody
from api.views import submission_summary
from api.web.schemas import AdminOverview, AdminSubmission, AdminSubmissionsPage, WorkerState

#: How many failed gradings the overview lists.
RECENT_ERRORS = 10


def require_admin(caller: CallerDep) -> Caller:
    """The caller, if its key is an admin key; ``403`` otherwise."""
    if not caller.admin:
        raise ApiError(403, "forbidden", "the operator view needs an admin key")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    responses={**ERROR_RESPONSES, 403: {"model": ErrorBody, "description": "Not an admin key."}},
)


def _admin_row(row: Submission, owner_name: str | None) -> AdminSubmission:
    """A submission as the operator's list shows it."""
    return AdminSubmission(
        **submission_summary(row).model_dump(),
        owner=row.owner,
        owner_name=owner_name,
        attempts=row.attempts,
        error=row.error,
    )


def _page(session: Session, query: Select[Any], limit: int, offset: int) -> list[AdminSubmission]:
    """One page of ``query`` (on submissions), newest first, with the owners' key names (open
    mode's owner has no key row)."""
    named = query.add_columns(ApiKey.name).outerjoin(ApiKey, ApiKey.id == Submission.owner)
    ordered = named.order_by(Submission.created_at.desc(), Submission.id.desc())
    rows = session.execute(ordered.limit(limit).offset(offset)).all()
    return [_admin_row(row[0], row[1]) for row in rows]


@router.get("/submissions")
def list_all_submissions(
    _admin: AdminDep,
    session: SessionDep,
    exercise: Annotated[str | None, Query(max_length=100)] = None,
    status: Status | None = None,
    owner: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> AdminSubmissionsPage:
    """Every caller's submissions, newest first; filters as on ``GET /v1/submissions``."""
    query = select(Submission)
    if exercise:
        query = query.where(Submission.exercise == exercise)
    if status:
        query = query.where(Submission.status == status.value)
    if owner:
        query = query.where(Submission.owner == owner)
    count = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    return AdminSubmissionsPage(
        data=_page(session, query, limit, offset), count=count, limit=limit, offset=offset
    )


@router.get("/overview")
def read_overview(_admin: AdminDep, session: SessionDep, services: ServicesDep) -> AdminOverview:
    """Queue depth, workers, submissions by status, and the latest failed gradings."""
    by_status = dict(
        session.execute(select(Submission.status, func.count()).group_by(Submission.status)).all()
    )
    failed = select(Submission).where(Submission.status == Status.ERROR.value)
    return AdminOverview(
        queue_depth=services.queue.depth(),
        workers=WorkerState(
            size=services.pool.size, alive=services.pool.alive(), busy=services.pool.busy()
        ),
        counts={status: int(by_status.get(status.value, 0)) for status in Status},
        recent_errors=_page(session, failed, RECENT_ERRORS, 0),
        generated_at=utcnow(),
    )
