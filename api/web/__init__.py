"""The web page of the grading service: solve, submit and review in the browser.

Served by the same FastAPI app: ``/`` and ``/static/*`` (the page and its assets, under a
strict Content-Security-Policy), plus the few ``/v1`` endpoints only the page needed (who am
I, a rendered statement, report downloads, the operator view). The page itself carries no
authority: it sends the API key the user pasted in an ``Authorization`` header, so every read
and write obeys the API's access rules.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from api.web import account, admin, pages, reports, statement
from api.web.pages import STATIC_DIR
from api.web.security import PageSecurityHeaders

web_router = APIRouter()
web_router.include_router(pages.router)
web_router.include_router(account.router)
web_router.include_router(statement.router)
web_router.include_router(reports.router)
web_router.include_router(admin.router)


def install_web(app: FastAPI) -> None:
    """Serve the page from ``app``: its routes, its assets, and their security headers."""
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(PageSecurityHeaders)
