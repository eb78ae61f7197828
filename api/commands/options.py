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

Broker = Annotated[
    str | None,
    typer.Option(
        "--broker",
        help="Celery broker URL, e.g. redis://127.0.0.1:6379/0 or amqp://...: fleet mode "
        "(default: $GRADER_BROKER_URL; unset: embedded, everything in this process).",
    ),
]


def safe_broker(url: str) -> str:
    """``url`` with any password hidden."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
