"""The ``grader`` command line: browse exercises, start one, test, grade and validate."""

from __future__ import annotations

import sys

import typer

from grader.cli.output import error
from grader.errors import GraderError

app = typer.Typer(
    help="Grade coding exercises against hidden test suites.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    """Attach every command module to the app."""
    from grader.cli import exercises, grading

    exercises.register(app)
    grading.register(app)
    try:
        from grader.cli import sandbox_cmds
    except ImportError:  # the sandbox commands are optional while that package is built
        return
    sandbox_cmds.register(app)


_register()


def main() -> None:
    """Console-script entry: grader faults exit 2 with one line, never a traceback."""
    try:
        app(standalone_mode=True)
    except GraderError as exc:
        error(str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(130)
