"""The ``grader`` command line: browse exercises, start one, test, grade and validate.

Exit codes: 0 success (a passing grade), 1 a failing grade or check, 2 a usage error or a fault
of the grader, 130 interrupted, 141 standard output closed by its reader (``| head -1``: the
status a shell reports for a Unix tool that ``SIGPIPE`` ended; nothing is printed).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from grader import __version__
from grader.cli.output import OutputClosed, error
from grader.errors import GraderError

#: Exit status when the reader of standard output went away (128 + SIGPIPE).
EXIT_OUTPUT_CLOSED = 141


class _Group(TyperGroup):
    """The top command group: a broken pipe in any command ends it as :class:`OutputClosed`
    (typer and click would exit 1, the status of a failing grade)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise OutputClosed from exc


app = typer.Typer(
    cls=_Group,
    help="Grade coding exercises against hidden test suites.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    """``--version``: print the grader's version and stop."""
    if value:
        print(f"hidden-grader {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the grader's version and exit.",
            callback=_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Grade coding exercises against hidden test suites."""


#: Entry-point group through which other packages (e.g. the HTTP service) add commands,
#: so that this package never imports them.
COMMANDS_GROUP = "grader.commands"


def _register(app: typer.Typer) -> None:
    """Attach every command module to the app, then commands other packages provide."""
    from importlib.metadata import entry_points

    from grader.cli import exercises, exercism_runner, grading, mutants, practice, sandbox_cmds

    exercises.register(app)
    grading.register(app)
    exercism_runner.register(app)
    mutants.register(app)
    practice.register(app)
    sandbox_cmds.register(app)
    for entry in entry_points(group=COMMANDS_GROUP):
        try:
            entry.load()(app)
        except Exception as exc:  # a broken plug-in must not break `grader grade`
            print(f"grader: the '{entry.name}' commands are unavailable: {exc}", file=sys.stderr)


_register(app)


def _output_closed() -> None:
    """Stop writing to the closed pipe, quietly, as a Unix tool does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # nothing left to flush can fail at exit
    os.close(devnull)
    sys.exit(EXIT_OUTPUT_CLOSED)


def main() -> None:
    """Console-script entry: grader faults exit 2 with one line, never a traceback.

    Help and usage errors are plain text when standard output is piped (rich's boxes only on
    a terminal). The sandbox's choice of backend is shown by the commands themselves, so its
    log record does not reach standard error a second time.
    """
    logging.getLogger("sandbox").addHandler(logging.NullHandler())
    if not sys.stdout.isatty():
        app.rich_markup_mode = None
    try:
        try:
            app(standalone_mode=True)
        except SystemExit as exc:
            # typer and click end a broken pipe they caught with a plain exit 1, after wrapping
            # standard output in click's PacifyFlushWrapper: that is a closed pipe too.
            if type(sys.stdout).__name__ == "PacifyFlushWrapper":
                raise OutputClosed from exc
            sys.stdout.flush()  # a reader gone during the last write shows here, not at exit
            raise
    except (OutputClosed, BrokenPipeError):
        _output_closed()
    except GraderError as exc:
        error(str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(130)
