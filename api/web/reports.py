"""``/v1/submissions/{id}/report/{format}``: a graded submission's public report as a download,
in any of the formats ``grader grade --format`` writes (rendered by :mod:`grader.formats`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.deps import CallerDep, ServicesDep
from api.errors import ERROR_RESPONSES, NOT_FOUND, ApiError
from api.schemas import ErrorBody
from api.views import load_view
from grader import formats

router = APIRouter(prefix="/v1/submissions", tags=["submissions"], responses=ERROR_RESPONSES)


class ReportFormat(StrEnum):
    """The formats of ``grader grade --format`` (a unit test keeps them equal)."""

    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    EXERCISM = "exercism"
    GRADESCOPE = "gradescope"
    GITHUB = "github"
    MARKDOWN = "markdown"


#: Media type and file extension of each format (anything else is plain text).
_KINDS: dict[str, tuple[str, str]] = {
    "json": ("application/json", "json"),
    "exercism": ("application/json", "json"),
    "gradescope": ("application/json", "json"),
    "junit": ("application/xml", "xml"),
    "markdown": ("text/markdown; charset=utf-8", "md"),
}


@router.get(
    "/{submission_id}/report/{fmt}",
    response_class=Response,
    responses={
        200: {"description": "The report in that format, as an attachment."},
        **NOT_FOUND,
        409: {
            "model": ErrorBody,
            "description": "The submission has no report: not graded yet, or grading failed.",
        },
    },
)
def download_report(
    submission_id: Annotated[str, Path(max_length=64)],
    fmt: ReportFormat,
    caller: CallerDep,
    services: ServicesDep,
) -> Response:
    """The public report of one of the caller's submissions, rendered as ``fmt``."""
    view = load_view(services, caller.id, submission_id)  # another caller's: 404
    if view.report is None:
        raise ApiError(
            409,
            "report_not_ready",
            f"submission {submission_id!r} has no report (status {view.status.value})",
            {"status": view.status.value},
        )
    media_type, extension = _KINDS.get(fmt.value, ("text/plain; charset=utf-8", "txt"))
    name = f"{view.exercise}-{view.id[:8]}-{fmt.value}.{extension}"
    return Response(
        formats.render(view.report, fmt.value),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
