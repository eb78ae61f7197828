"""Service commands for the ``grader`` CLI (placeholder until the service lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the service's commands to ``app``."""
