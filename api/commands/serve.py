"""``grader serve``: run the HTTP service (uvicorn) with its grading workers."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from api.commands.options import Broker, DatabaseUrl, safe_broker
from api.settings import Settings
from grader.cli.output import error
from grader.runners import SandboxChoice

#: Seconds uvicorn waits for open connections (e.g. event streams) when stopping.
CONNECTIONS_GRACE = 5


def _option(env: str, text: str, *decls: str, **extra: Any) -> Any:
    """An option whose setting may also come from ``GRADER_<env>`` (named in ``--help``).

    The variable is read by the settings (``Settings.from_env``), never by the option.
    """
    return typer.Option(*decls, help=f"{text} Variable: GRADER_{env}.", **extra)


def serve(
    host: Annotated[
        str | None, _option("HOST", "Address to listen on (default 127.0.0.1: this machine only).")
    ] = None,
    port: Annotated[int | None, _option("PORT", "Port (default 8000).")] = None,
    workers: Annotated[
        int | None,
        _option(
            "WORKERS",
            "Grading workers (default: one per CPU; with --broker 0, else a local worker node).",
            min=0,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    broker: Broker = None,
    sandbox: Annotated[
        SandboxChoice | None,
        _option(
            "SANDBOX",
            "Where submissions run: auto, docker, process, or none (trusted code "
            "only). Default auto.",
        ),
    ] = None,
    open_mode: Annotated[
        bool,
        _option(
            "OPEN_MODE",
            "Open mode: one anonymous user, no API keys needed; --open also opens the web "
            "page in your browser (when run from a terminal with a display).",
            "--open",
        ),
    ] = False,
    exercises: Annotated[
        Path | None, _option("EXERCISES_DIR", "Directory of exercises instead of the shipped ones.")
    ] = None,
) -> None:
    """Serve the grading API; settings come from flags, then GRADER_* variables, then defaults.

    GRADER_SANDBOX_IMAGE and GRADER_SANDBOX_RUNTIME name the runner image and the container
    runtime; docs/service.md lists every setting.
    """
    import uvicorn

    from api.db import safe_url
    from api.httpserver import protocol_with_deadlines
    from api.main import create_app
    from api.services import build_services

    settings = Settings.from_env(
        host=host,
        port=port,
        workers=workers,
        database_url=database_url,
        sandbox=sandbox,
        broker_url=broker,
        open_mode=True if open_mode else None,
        exercises_dir=exercises,
    )
    services = build_services(settings)  # GraderError: one line and exit 2, from the CLI
    for warning in _warnings(settings, services.warning):
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"grader service on http://{settings.host}:{settings.port} ({_grading(settings)}, "
        f"database {safe_url(settings.database_url)})",
        file=sys.stderr,
        flush=True,
    )
    _announce_page(settings, browser=open_mode)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s"
    )
    try:
        uvicorn.run(
            create_app(settings, services),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            timeout_graceful_shutdown=CONNECTIONS_GRACE,
            timeout_keep_alive=settings.keepalive_timeout,
            http=protocol_with_deadlines(settings.header_timeout, settings.body_timeout),
        )
    except SystemExit as exc:  # uvicorn's start-up failures (e.g. the port is taken)
        if exc.code not in (0, None):
            error(
                f"the service could not start on {settings.host}:{settings.port} "
                "(see the messages above)"
            )
            raise typer.Exit(2) from None
        raise


def _announce_page(settings: Settings, browser: bool) -> None:
    """Say where the web page is; with ``--open``, open it in a browser once the service is up."""
    from api.web.launch import can_open_browser, open_page_when_ready, page_url

    if browser and can_open_browser():
        url = open_page_when_ready(settings.host, settings.port)
        print(f"web page: {url} (opening it in your browser)", file=sys.stderr, flush=True)
    else:
        print(f"web page: {page_url(settings.host, settings.port)}", file=sys.stderr, flush=True)


def _grading(settings: Settings) -> str:
    """Where gradings happen, for the start-up line."""
    if not settings.fleet:
        return f"{settings.workers} workers, sandbox {settings.sandbox.value}"
    local = f"a local worker node of {settings.workers}" if settings.workers else "no local workers"
    return f"fleet API node: broker {safe_broker(settings.broker_url or '')}, {local}"


def _warnings(settings: Settings, sandbox_warning: str | None) -> list[str]:
    """What the operator must be told before the service starts."""
    found = [sandbox_warning] if sandbox_warning else []
    if settings.open_mode:
        found.append("open mode: anyone who can reach the service may submit, without a key")
        if not settings.is_loopback:
            found.append(f"open mode on {settings.host}, which other machines may reach")
    return found


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command()(serve)
