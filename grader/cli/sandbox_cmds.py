"""``grader doctor`` and ``grader image build``: sandbox setup commands.

Wire into the CLI app with :func:`register`. Exit codes: 0 ok, 1 a check or
build failed, 2 usage error or unexpected fault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from grader.cli.options import from_settings
from grader.cli.output import console as stdout_console
from grader.cli.output import error, table
from grader.settings import grader_settings

if TYPE_CHECKING:
    from sandbox.doctor import Check

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
    """Check that the sandbox can run here; print the fix for each failure (a table on a
    terminal, tab-separated lines when piped)."""
    from sandbox.doctor import run_checks

    console = stdout_console()
    try:
        checks = [*run_checks(image, runtime), _pool_settings(), *_plugin_checks()]
    except Exception as exc:  # a bug, not an environment problem: still no traceback
        error(f"doctor failed unexpectedly: {exc!r}")
        raise typer.Exit(EXIT_FAULT) from exc
    rows = [
        [c.name, "ok" if c.ok else "FAIL" if c.required else "warn", c.detail, c.fix or ""]
        for c in checks
    ]
    table("sandbox doctor", ["check", "status", "detail", "fix"], rows)
    failed = [c for c in checks if c.required and not c.ok]
    if failed:
        console.print(f"[red]{len(failed)} check(s) failed[/red]; run the commands in 'fix'.")
        raise typer.Exit(EXIT_FAILED)
    console.print("[green]sandbox ready[/green]")


def _pool_settings() -> Any:
    """The warm pool's configured size, as a doctor row (what is running is the sandbox's row)."""
    from sandbox.doctor import Check

    settings = grader_settings()
    detail = (
        f"{settings.pool_size} ready per shape of limits, at most {settings.pool_memory_mb} MB "
        "of memory limits (GRADER_POOL_SIZE, GRADER_POOL_MEMORY_MB); used by validate, grade "
        "and the service's workers"
        if settings.pool_size
        else "off (GRADER_POOL_SIZE=0)"
    )
    return Check("warm pool settings", True, detail, required=False)


#: Entry-point group through which other packages (e.g. the HTTP service: its database and
#: broker) add checks to ``grader doctor``: each entry is a callable returning ``Check``s.
DOCTOR_GROUP = "grader.doctor"


def _plugin_checks() -> list[Check]:
    """The checks other installed packages add; a plug-in that fails is a failed check."""
    from importlib.metadata import entry_points

    from sandbox.doctor import Check

    found: list[Check] = []
    for entry in entry_points(group=DOCTOR_GROUP):
        try:
            found += list(entry.load()())
        except Exception as exc:
            found.append(Check(f"{entry.name} checks", False, f"could not run: {exc!r}"))
    return found


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
