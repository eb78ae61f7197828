"""``/healthz`` (the process answers), ``/readyz`` (it can do its job), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from api.db import ping
from api.deps import ServicesDep
from api.metrics import CONTENT_TYPE
from api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> Health:
    """Liveness: always ``ok`` while the process serves requests."""
    return Health()


@router.get("/readyz", responses={503: {"model": Readiness, "description": "Not ready."}})
def readyz(services: ServicesDep) -> JSONResponse:
    """Readiness: the database answers, the sandbox can be set up, the workers are alive."""
    checks: dict[str, str] = {}
    ready = True
    try:
        ping(services.engine)
        checks["database"] = "ok"
    except Exception as exc:
        ready, checks["database"] = False, f"failed: {type(exc).__name__}"
    sandbox_ok, checks["sandbox"] = services.sandbox_status()
    alive = services.pool.alive()
    checks["workers"] = f"{alive}/{services.pool.size} alive"
    ready = ready and sandbox_ok and alive == services.pool.size
    body = Readiness(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text."}},
)
def metrics(services: ServicesDep) -> PlainTextResponse:
    """Queue depth, gradings by status and grading durations, in Prometheus text format."""
    text = services.metrics.render(
        queue_depth=services.queue.depth(),
        running=services.pool.busy(),
        workers=services.pool.alive(),
    )
    return PlainTextResponse(text, media_type=CONTENT_TYPE)
