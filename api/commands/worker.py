"""``grader worker``: a grading node of a fleet (a Celery worker taking submissions)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from api.commands.options import Broker, DatabaseUrl, safe_broker
from api.settings import Settings
from grader.cli.output import error
from grader.runners import SandboxChoice


def worker(
    broker: Broker = None,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="Gradings at once on this node (default: CPU count)."),
    ] = None,
    database_url: DatabaseUrl = None,
    sandbox: Annotated[
        SandboxChoice | None,
        typer.Option(help="Where submissions run (default $GRADER_SANDBOX, else auto)."),
    ] = None,
    exercises: Annotated[
        Path | None, typer.Option(help="Directory of exercises instead of the shipped ones.")
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Serve /metrics and /healthz of this node on this port."
        ),
    ] = None,
) -> None:
    """Grade submissions taken from the broker until stopped (SIGTERM: finish, then exit).

    Every setting also comes from GRADER_* variables (docs/deployment.md); the node needs the
    same database, broker and exercises as the API nodes.
    """
    from api.db import safe_url
    from api.gradingnode import run_worker

    settings = Settings.from_env(
        broker_url=broker, database_url=database_url, sandbox=sandbox, exercises_dir=exercises
    )
    if not settings.fleet:
        error("grader worker needs a broker: --broker URL or GRADER_BROKER_URL")
        raise typer.Exit(2)
    threads = concurrency or os.cpu_count() or 1
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s"
    )
    print(
        f"grading node: {threads} thread(s), sandbox {settings.sandbox.value}, broker "
        f"{safe_broker(settings.broker_url or '')}, database {safe_url(settings.database_url)}",
        file=sys.stderr,
        flush=True,
    )
    run_worker(settings, threads, metrics_port)


def register(app: typer.Typer) -> None:
    """Add ``worker`` to ``app``."""
    app.command()(worker)
