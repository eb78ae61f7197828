"""One JSON shape for every error: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ErrorBody

log = logging.getLogger("api")

#: ``Retry-After`` (seconds) of a ``503`` while the database is away.
RETRY_AFTER_OUTAGE = 5


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


class SafeJSONResponse(JSONResponse):
    """JSON that can always be sent: text that is not valid Unicode (a lone surrogate from a
    JSON escape such as ``"\\ud800"``) is sent escaped instead of failing the response."""

    def render(self, content: Any) -> bytes:
        """UTF-8 JSON, or ASCII JSON with escapes when some text cannot be UTF-8."""
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The JSON response for an error."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return SafeJSONResponse(body, status_code=status, headers=dict(headers or {}))


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


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors: unknown path (404), wrong method (405), and so on.

    A body that cannot be parsed at all (a broken multipart form: Starlette says 400) is a
    malformed request like any other, ``422 invalid_request``. A 405 lists every method the
    path has, not only those of the first route that matched it.
    """
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 400:
        problem = {"loc": ["body"], "msg": message, "type": "body_unparsable"}
        return error_response(422, "invalid_request", f"body: {message}", [problem])
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return error_response(exc.status_code, _code_for(exc.status_code), message, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for route in _leaf_routes(request.app.router.routes):
        regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(path):
            methods |= set(route_methods)
    return sorted(methods)


def _leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes of included routers, flattened (their paths carry their prefixes)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        inner = getattr(included, "routes", None)
        if inner is None and isinstance(route, APIRouter):
            inner = route.routes
        if inner is not None:
            yield from _leaf_routes(inner)
        else:
            yield route


async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    """The database is unreachable (down, restarting, out of connections): ``503``, retry."""
    log.warning("database unavailable: %s", (str(exc).splitlines() or [""])[0][:200])
    return error_response(
        503,
        "database_unavailable",
        "the service's database is unavailable; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_OUTAGE)},
    )


async def _unstorable(_request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses (PostgreSQL stores no NUL character): the request's fault."""
    log.info("refused a value the database cannot store: %s", type(exc).__name__)
    problem = {"loc": [], "msg": "contains a character that cannot be stored", "type": "value"}
    return error_response(
        422,
        "invalid_request",
        "the request contains a character that cannot be stored (e.g. NUL)",
        [problem],
    )


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
    for unavailable in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(unavailable, _database_error)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(Exception, _unexpected)


def _doc(description: str) -> dict[str, Any]:
    """An OpenAPI response entry with the error shape."""
    return {"model": ErrorBody, "description": description}


#: OpenAPI documentation of the error answers, for routers to include.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _doc("Missing, unknown or revoked API key."),
    422: _doc("The request is malformed; the message names the problem."),
    503: _doc("The database is unavailable for a moment; see Retry-After."),
}
SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: _doc("Sent by a page of another site (its Origin is not this service)."),
    404: _doc("Unknown exercise."),
    409: _doc("The Idempotency-Key was used for a different request."),
    413: _doc("The request body is larger than the limit."),
    429: _doc("Rate limit or queued-submission cap reached; see Retry-After."),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _doc("No such resource (for this key).")}
