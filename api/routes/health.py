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
    """Readiness: the database answers, the sweeper keeps up, and either the sandbox and the
    workers (embedded) or the broker and Redis (an API node of a fleet) are usable."""
    checks: dict[str, str] = {}
    ready = True
    try:
        ping(services.engine)
        checks["database"] = "ok"
    except Exception as exc:
        ready, checks["database"] = False, f"failed: {type(exc).__name__}"
    sweeping = services.sweeper.healthy()
    checks["sweeper"] = "ok" if sweeping else "failing (stranded work is not recovered)"
    ready = ready and sweeping
    sandbox = services.sandbox_status()
    if sandbox is not None:
        sandbox_ok, checks["sandbox"] = sandbox
        ready = ready and sandbox_ok
    if services.fleet is not None:
        for name, state in services.fleet.ping().items():
            checks[name] = state
            ready = ready and state == "ok"
    alive, expected = services.workers()
    checks["workers"] = f"{alive}/{expected} alive" if expected else "none here (fleet API node)"
    ready = ready and alive == expected
    body = Readiness(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


# HEAD answers as GET without the body (probes and load balancers use it); not in the schema.
router.add_api_route(
    "/healthz", healthz, methods=["HEAD"], include_in_schema=False, name="healthz_head"
)
router.add_api_route(
    "/readyz", readyz, methods=["HEAD"], include_in_schema=False, name="readyz_head"
)


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
