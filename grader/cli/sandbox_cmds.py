"""``grader doctor`` and ``grader image build``: sandbox setup commands.

Wire into the CLI app with :func:`register`. Exit codes: 0 ok, 1 a check or
build failed, 2 usage error or unexpected fault.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from grader.cli.options import from_settings

EXIT_OK, EXIT_FAILED, EXIT_FAULT = 0, 1, 2


def register(app: typer.Typer) -> None:
    """Add ``doctor`` and ``image build`` to ``app``."""
    app.command("doctor")(doctor)
    image_app = typer.Typer(help="Manage the sandbox runner image.", no_args_is_help=True)
    image_app.command("build")(image_build)
    app.add_typer(image_app, name="image")


def doctor(
    image: Annotated[
        str | None,
        typer.Option(
            help="Runner image tag to check.",
            show_default="$GRADER_SANDBOX_IMAGE, else hidden-grader-runner:1",
            callback=from_settings("sandbox_image"),
        ),
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(
            help="OCI runtime to check, e.g. runsc.",
            show_default="$GRADER_SANDBOX_RUNTIME, else the daemon's default",
            callback=from_settings("sandbox_runtime"),
        ),
    ] = None,
) -> None:
    """Check that the sandbox can run here; print the fix for each failure."""
    from sandbox.doctor import run_checks

    console = Console()
    try:
        checks = run_checks(image, runtime)
    except Exception as exc:  # a bug, not an environment problem: still no traceback
        console.print(f"[red]doctor failed unexpectedly:[/red] {exc!r}")
        raise typer.Exit(EXIT_FAULT) from exc
    table = Table(title="sandbox doctor")
    for column in ("check", "status", "detail", "fix"):
        table.add_column(column, overflow="fold")
    for check in checks:
        if check.ok:
            status = "[green]ok[/green]"
        elif check.required:
            status = "[red]FAIL[/red]"
        else:
            status = "[yellow]warn[/yellow]"
        table.add_row(check.name, status, check.detail, check.fix or "")
    console.print(table)
    failed = [c for c in checks if c.required and not c.ok]
    if failed:
        console.print(f"[red]{len(failed)} check(s) failed[/red]; run the commands in 'fix'.")
        raise typer.Exit(EXIT_FAILED)
    console.print("[green]sandbox ready[/green]")


def image_build(
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Build with debootstrap + docker import (no registry; needs root)."
        ),
    ] = False,
    tag: Annotated[
        str | None,
        typer.Option(
            help="Image tag to build.",
            show_default="$GRADER_SANDBOX_IMAGE, else hidden-grader-runner:1",
            callback=from_settings("sandbox_image"),
        ),
    ] = None,
) -> None:
    """Build the sandbox runner image (Debian + python3)."""
    from sandbox.errors import SandboxError
    from sandbox.image import build_image

    console = Console()
    try:
        built = build_image(offline, tag, log=lambda line: console.print(line, markup=False))
    except SandboxError as exc:
        console.print(f"[red]image build failed:[/red] {exc}")
        raise typer.Exit(EXIT_FAILED) from exc
    except Exception as exc:
        console.print(f"[red]image build failed unexpectedly:[/red] {exc!r}")
        raise typer.Exit(EXIT_FAULT) from exc
    console.print(f"[green]built {built}[/green]")
