"""``/``: the web page, one HTML document whose scripts (in ``static/``) draw every view."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

#: The page's assets, shipped in the package (no CDN, no build step).
STATIC_DIR = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    """The page; it signs in, then reads and writes only through the ``/v1`` API."""
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )
