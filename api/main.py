"""The FastAPI application: routers, error handling, the body limit, and the lifespan that
starts and stops the grading workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from api.bodylimit import BodyLimitMiddleware
from api.deps import get_settings
from api.docs_assets import install_docs
from api.errors import install_error_handlers
from api.routes import api_router
from api.services import Services, build_services
from api.settings import Settings
from api.web import install_web
from grader import __version__

log = logging.getLogger("api")

DESCRIPTION = """\
Submit solutions to coding exercises and get them graded against hidden test suites.

Authenticate with `Authorization: Bearer <token>` (an API key from `grader keys create`),
unless the service runs in open mode. Every error has the shape
`{"error": {"code": "...", "message": "...", "details": ...}}`.
"""


def _operation_id(route: APIRoute) -> str:
    """Operation ids are the handler names (``create_submission``), stable for client code."""
    return route.name


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The application; ``services`` already built (by ``grader serve``) or built at start-up."""
    settings = settings or (services.settings if services else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Build the services, requeue leftovers, run the workers; stop them on the way out."""
        built: Services = (
            services if services is not None else await run_in_threadpool(build_services, settings)
        )
        built.notifier.bind(asyncio.get_running_loop())
        app.state.services = built
        requeued = await run_in_threadpool(built.start)
        if built.settings.fleet:
            log.info("fleet API node: gradings go to %s", built.settings.queue_name)
        else:
            log.info(
                "grading with %d worker(s); %d submission(s) queued from before",
                built.settings.workers,
                requeued,
            )
        try:
            yield
        finally:
            await run_in_threadpool(built.stop)

    app = FastAPI(
        title="hidden-grader",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,  # served by install_docs, with local assets instead of a CDN's
        redoc_url=None,
    )
    app.dependency_overrides[get_settings] = lambda: settings
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.include_router(api_router)
    install_docs(app)
    install_web(app)  # the web page at /, its assets, and their security headers
    return app
