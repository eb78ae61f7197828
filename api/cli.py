"""Service commands for the ``grader`` CLI, added through the ``grader.commands`` entry point.

Kept tiny: every ``grader`` invocation loads this module, so the commands (and FastAPI,
SQLAlchemy, httpx) are imported only when ``register`` runs or a command is used.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``worker``, ``submit`` and ``keys create|list|revoke`` to ``app``."""
    from api.commands import keys, serve, submit, worker

    serve.register(app)
    worker.register(app)
    submit.register(app)
    keys.register(app)
