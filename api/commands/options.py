"""Options shared by the service commands."""

from __future__ import annotations

from typing import Annotated

import typer

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL of the service database (default: $GRADER_DATABASE_URL, else a "
        "SQLite file in ~/.local/share/hidden-grader).",
    ),
]
