"""One JSON shape for every error: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ErrorBody

log = logging.getLogger("api")


class ApiError(Exception):
    """An error answer: HTTP status, stable code, a sentence, optional details and headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The JSON response for an error."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _code_for(status: int) -> str:
    """``not_found`` for 404 and so on."""
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    """Errors the service raises on purpose."""
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors: unknown path (404), wrong method (405), and so on."""
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, _code_for(exc.status_code), message, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request validation, reduced to where and what (never echoing the input)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": str(err.get("msg")),
            "type": str(err.get("type")),
        }
        for err in exc.errors()
    ]
    first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"])
    message = f"{where}: {first['msg']}" if where else str(first["msg"])
    return error_response(422, "invalid_request", message, problems)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    """Anything else is our bug: log it, say little."""
    log.error("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of error through the one shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)


def _doc(description: str) -> dict[str, Any]:
    """An OpenAPI response entry with the error shape."""
    return {"model": ErrorBody, "description": description}


#: OpenAPI documentation of the error answers, for routers to include.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _doc("Missing, unknown or revoked API key."),
    422: _doc("The request is malformed; the message names the problem."),
}
SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: _doc("Unknown exercise."),
    409: _doc("The Idempotency-Key was used for a different request."),
    413: _doc("The request body is larger than the limit."),
    429: _doc("Rate limit or queued-submission cap reached; see Retry-After."),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _doc("No such resource (for this key).")}
