"""``/v1/submissions``: submit (JSON or a multipart upload), read, wait, stream, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Path, Query, Response, UploadFile
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api import store
from api.accept import accept_submission
from api.deps import CallerDep, SameOrigin, ServicesDep, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES, NOT_FOUND, SUBMIT_RESPONSES, ApiError
from api.models import Status, Submission
from api.schemas import SLUG_PATTERN, SubmissionCreate, SubmissionPublic, SubmissionsPage
from api.sse import submission_events_response
from api.views import (
    load_view,
    submission_public,
    submission_summary,
    wait_until_final,
)

router = APIRouter(prefix="/v1/submissions", tags=["submissions"], responses=ERROR_RESPONSES)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string; a retry with the same key returns the same submission.",
    ),
]

#: OpenAPI links from an accepted submission to where it can be followed.
_FOLLOW = {
    "links": {
        "ReadSubmission": {
            "operationId": "read_submission",
            "parameters": {"submission_id": "$response.body#/id"},
        },
        "SubmissionEvents": {
            "operationId": "submission_events",
            "parameters": {"submission_id": "$response.body#/id"},
        },
    }
}
#: The event stream in OpenAPI: the body is text; each event (OpenAPI 3.2's ``itemSchema``,
#: written ``x-itemSchema`` in this 3.1 document) is ``event: status``, a numeric ``id`` and
#: ``data``: the submission as JSON (``SubmissionPublic``). Comment lines keep it alive.
_EVENT = {
    "type": "object",
    "required": ["event", "id", "data"],
    "properties": {
        "event": {"type": "string", "const": "status"},
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/SubmissionPublic"},
        },
    },
}
_EVENT_STREAM = {
    "schema": {"type": "string", "description": "`text/event-stream` events, see x-itemSchema."},
    "x-itemSchema": _EVENT,
}
SubmissionId = Annotated[
    str,
    Path(max_length=64, pattern=r"^[\x21-\x7e]+$", description="The id the submission got."),
]


def _accepted(session: Session, response: Response, row: Submission) -> SubmissionPublic:
    """The 202 answer, pointing at the submission."""
    response.headers["Location"] = f"/v1/submissions/{row.id}"
    return submission_public(session, row)


@router.post(
    "",
    status_code=202,
    responses={202: _FOLLOW, **SUBMIT_RESPONSES},
    dependencies=[SameOrigin],
)
def create_submission(
    body: SubmissionCreate,
    caller: CallerDep,
    session: SessionDep,
    services: ServicesDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> SubmissionPublic:
    """Submit a module for grading; it is stored before the ``202`` answer."""
    row, _created = accept_submission(
        services, session, caller, body.exercise, body.files, idempotency_key
    )
    return _accepted(session, response, row)


@router.post(
    "/upload",
    status_code=202,
    responses={202: _FOLLOW, **SUBMIT_RESPONSES},
    dependencies=[SameOrigin],
)
def upload_submission(
    exercise: Annotated[str, Form(max_length=100, pattern=SLUG_PATTERN)],
    files: Annotated[list[UploadFile], File(description="The module file.")],
    caller: CallerDep,
    session: SessionDep,
    services: ServicesDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> SubmissionPublic:
    """Submit as a multipart form (``exercise`` and ``files``), e.g. with ``curl -F``."""
    contents: dict[str, str | bytes] = {}
    for upload in files:
        name = upload.filename or ""
        if name in contents:
            raise ApiError(422, "duplicate_file", f"{name!r} was sent twice", {"name": name})
        contents[name] = upload.file.read()
    row, _created = accept_submission(
        services, session, caller, exercise, contents, idempotency_key
    )
    return _accepted(session, response, row)


@router.get("/{submission_id}", responses=NOT_FOUND)
async def read_submission(
    submission_id: SubmissionId,
    caller: CallerDep,
    services: ServicesDep,
    settings: SettingsDep,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=300,
            description=(
                "Long-poll: wait up to this many seconds (capped by the server) for the grading "
                "to finish."
            ),
        ),
    ] = 0,
) -> SubmissionPublic:
    """A submission's status, with the public report once it is ``completed``."""
    seconds = min(wait, settings.max_wait)
    if seconds <= 0:
        return await run_in_threadpool(load_view, services, caller.id, submission_id)
    return await wait_until_final(services, caller.id, submission_id, seconds)


@router.get(
    "/{submission_id}/events",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "Server-sent events: a `status` event (the submission as JSON) "
            "whenever it changes; the stream ends once it is completed or failed.",
            "content": {"text/event-stream": _EVENT_STREAM},
        },
        **NOT_FOUND,
    },
)
async def submission_events(
    submission_id: SubmissionId, caller: CallerDep, services: ServicesDep
) -> EventSourceResponse:
    """Follow a submission's progress as a server-sent-events stream."""
    first = await run_in_threadpool(load_view, services, caller.id, submission_id)
    return submission_events_response(services, caller.id, first)


@router.get("")
def list_submissions(
    caller: CallerDep,
    session: SessionDep,
    exercise: Annotated[str | None, Query(max_length=100, pattern=SLUG_PATTERN)] = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> SubmissionsPage:
    """The caller's own submissions, newest first, optionally for one exercise or status."""
    rows, count = store.list_owned(
        session, caller.id, exercise, status.value if status else None, limit, offset
    )
    return SubmissionsPage(
        data=[submission_summary(r) for r in rows], count=count, limit=limit, offset=offset
    )
