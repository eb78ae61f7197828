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


#: Entry-point group through which other packages (e.g. the HTTP service) add commands,
#: so that this package never imports them.
COMMANDS_GROUP = "grader.commands"


def _register(app: typer.Typer) -> None:
    """Attach every command module to the app, then commands other packages provide."""
    from importlib.metadata import entry_points

    from grader.cli import exercises, grading, mutants, practice, sandbox_cmds

    exercises.register(app)
    grading.register(app)
    mutants.register(app)
    practice.register(app)
    sandbox_cmds.register(app)
    for entry in entry_points(group=COMMANDS_GROUP):
        try:
            entry.load()(app)
        except Exception as exc:  # a broken plug-in must not break `grader grade`
            print(f"grader: the '{entry.name}' commands are unavailable: {exc}", file=sys.stderr)


_register(app)


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
