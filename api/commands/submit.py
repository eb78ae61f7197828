"""``grader submit``: grade a submission on a server; prints what ``grader grade`` prints."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from grader.cli.grading import DEFAULT_FORMAT, Format, emit_report
from grader.report import PublicReport


def error(message: str) -> None:
    """One line on standard error, never wrapped (scripts read it)."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(message)}", markup=True
    )


@contextmanager
def _progress() -> Iterator[Callable[[dict[str, Any]], None]]:
    """A spinner with the submission's state on a terminal (standard error); else nothing."""
    console = Console(stderr=True, highlight=False)
    if not console.is_terminal:
        yield lambda _submission: None
        return
    with console.status("uploading") as status:

        def show(submission: dict[str, Any]) -> None:
            """Describe where the submission is."""
            state = submission["status"]
            if state == "queued" and submission.get("queue_position"):
                state += f" (position {submission['queue_position']})"
            status.update(f"{submission['exercise']}: {state}")

        yield show


def submit(
    slug: Annotated[str, typer.Argument(help="The exercise.")],
    path: Annotated[Path, typer.Argument(help="The module file, or a folder holding it.")],
    server: Annotated[
        str, typer.Option(envvar="GRADER_URL", show_envvar=True, help="The service's URL.")
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="GRADER_TOKEN", show_envvar=True, help="API key (not needed in open mode)."
        ),
    ] = None,
    output_format: Annotated[Format, typer.Option("--format", "-f")] = DEFAULT_FORMAT,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the result.")] = 900.0,
) -> None:
    """Grade a submission on a grading server (exit 0 only when it passes, 2 on errors)."""
    from api.client import Client, ClientError, read_submission

    try:
        with Client(server, token) as client, _progress() as show:
            name, content = read_submission(path, lambda: client.module_of(slug))
            accepted = client.submit(slug, name, content)
            show(accepted)
            done = client.follow(accepted["id"], timeout, show)
    except ClientError as exc:
        error(str(exc))
        raise typer.Exit(2) from None
    if done["status"] != "completed" or not done.get("report"):
        error(f"grading failed on the server: {done.get('error') or 'no report'}")
        raise typer.Exit(2)
    public = PublicReport.model_validate(done["report"])
    emit_report(public, output_format)
    raise typer.Exit(0 if public.status.value == "passed" else 1)


def register(app: typer.Typer) -> None:
    """Add ``submit`` to ``app``."""
    app.command()(submit)
