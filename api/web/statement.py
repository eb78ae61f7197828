"""``/v1/exercises/{slug}/statement``: the statement as HTML, rendered on the server.

The Markdown comes from the exercise's README (operator-controlled, yet still treated as
untrusted): raw HTML in it is escaped, and markdown-it refuses ``javascript:``-style links.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Path
from markdown_it import MarkdownIt

from api.deps import CallerDep, ServicesDep
from api.errors import ERROR_RESPONSES, NOT_FOUND
from api.schemas import SLUG_PATTERN
from api.web.schemas import StatementHtml

router = APIRouter(prefix="/v1/exercises", tags=["exercises"], responses=ERROR_RESPONSES)


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    """CommonMark plus tables; ``html`` off, so raw HTML blocks and tags come out as text."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str) -> str:
    """``text`` (Markdown) as HTML in which nothing the author wrote is markup but Markdown's."""
    html: str = _renderer().render(text)
    return html


@router.get("/{slug}/statement", responses=NOT_FOUND)
def read_statement(
    slug: Annotated[str, Path(max_length=100, pattern=SLUG_PATTERN)],
    _caller: CallerDep,
    services: ServicesDep,
) -> StatementHtml:
    """An exercise's statement rendered to HTML (the same text as ``statement`` in Markdown)."""
    exercise = services.exercise(slug)
    return StatementHtml(slug=exercise.meta.slug, html=render_markdown(exercise.statement))
