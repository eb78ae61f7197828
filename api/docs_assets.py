"""The interactive API docs (Swagger UI at ``/docs``, ReDoc at ``/redoc``) with their scripts
and styles served by the service itself, so the pages work without internet access.

The asset files come from the ``fastapi-offline`` package (Swagger UI 5 and ReDoc 2 bundles,
kept current by its maintainer); only its files are used, the pages are FastAPI's own.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Where the asset files are served (outside ``/static``, the web page's strict-CSP tree:
#: the Swagger UI page needs an inline script).
ASSETS_URL = "/docs-assets"
#: The package and folder the files are read from.
ASSETS_PACKAGE = ("fastapi_offline", "static")
#: File names in that folder.
SWAGGER_JS, SWAGGER_CSS, REDOC_JS, FAVICON = (
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "redoc.standalone.js",
    "favicon.png",
)
#: Swagger UI sends the schema's URL to an online validator unless told not to.
SWAGGER_PARAMETERS = {"validatorUrl": None}


def _asset(request: Request, name: str) -> str:
    """The URL path of asset ``name``, behind a proxy's ``root_path`` too."""
    return f"{request.scope.get('root_path', '')}{ASSETS_URL}/{name}"


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs``, ``/redoc`` and their assets from ``app`` (made with ``docs_url=None``
    and ``redoc_url=None``, so FastAPI's CDN-loading pages are not there too)."""
    app.mount(ASSETS_URL, StaticFiles(packages=[ASSETS_PACKAGE]), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        """Swagger UI: try the API from the browser."""
        return get_swagger_ui_html(
            openapi_url=f"{request.scope.get('root_path', '')}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=_asset(request, SWAGGER_JS),
            swagger_css_url=_asset(request, SWAGGER_CSS),
            swagger_favicon_url=_asset(request, FAVICON),
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        """ReDoc: the API reference as one page."""
        return get_redoc_html(
            openapi_url=f"{request.scope.get('root_path', '')}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=_asset(request, REDOC_JS),
            redoc_favicon_url=_asset(request, FAVICON),
            with_google_fonts=False,
        )
