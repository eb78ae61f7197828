"""``grader exercism-runner SLUG INPUT_DIR OUTPUT_DIR``: the grader as an Exercism test runner.

Exercism runs a track's test runner with the exercise's slug, a folder holding the student's
solution (read-only) and a folder to write ``results.json`` to. The runner exits 0 whenever it
ran, whatever the tests did: the results say how the solution fared. Here the tests are the
exercise's hidden suite; ``results.json`` is the ``exercism`` format (version 3, see
:mod:`grader.formats.exercism`). A solution that is not where it should be is the student's
problem (status ``error`` with a message, exit 0); an exercise this grader does not have, or a
sandbox that cannot start, is the runner's (``results.json`` says so too, and the exit is 2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from grader import formats
from grader.catalogue import Catalogue
from grader.cli.exercises import ExercisesDir
from grader.cli.grading import _make_runner, _sandbox_option
from grader.cli.output import error, warn
from grader.errors import GraderError
from grader.grading import grade
from grader.public import to_public
from grader.settings import SandboxChoice
from grader.submission import from_path

#: The file Exercism reads from the output folder.
RESULTS = "results.json"


def _write_error(output_dir: Path, message: str) -> None:
    """A ``results.json`` saying no test could run, and why."""
    document = {"version": 3, "status": "error", "message": message, "tests": []}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    (output_dir / RESULTS).write_text(text, encoding="utf-8")


def _solution_problem(input_dir: Path, module: str) -> str | None:
    """Why the solution is not in ``input_dir``, in the student's words (no runner paths)."""
    if not input_dir.is_dir():
        return f"The solution folder is missing; expected it to hold {module}."
    if (input_dir / module).is_file():
        return None
    others = sorted(p.name for p in input_dir.glob("*.py"))
    found = f" It holds {', '.join(others[:5])}." if others else ""
    return f"No {module} in the solution: the file must be named {module}.{found}"


def exercism_runner(
    slug: Annotated[str, typer.Argument(help="The exercise's slug, e.g. lru-cache.")],
    input_dir: Annotated[Path, typer.Argument(help="The folder holding the solution.")],
    output_dir: Annotated[Path, typer.Argument(help="Where results.json is written.")],
    sandbox: Annotated[SandboxChoice | None, _sandbox_option(SandboxChoice.AUTO)] = None,
    exercises: ExercisesDir = None,
) -> None:
    """Grade a solution as an Exercism test runner: OUTPUT_DIR/results.json, exit 0 whatever
    the tests did (2 when the runner itself cannot run)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        exercise = Catalogue(exercises).get(slug)
        problem = _solution_problem(input_dir, exercise.meta.module)
        if problem:
            _write_error(output_dir, problem)
            raise typer.Exit(0)
        runner, warning = _make_runner(sandbox or SandboxChoice.AUTO)
        warn(warning)
        report = grade(exercise, from_path(input_dir, exercise.meta.module), runner)
    except GraderError as exc:
        _write_error(output_dir, f"The test runner could not grade this solution: {exc}")
        error(str(exc))
        raise typer.Exit(2) from None
    public = to_public(report, exercise.meta.visibility, exercise.meta.canary)
    (output_dir / RESULTS).write_text(formats.render(public, "exercism"), encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add ``exercism-runner`` to ``app``."""
    app.command("exercism-runner")(exercism_runner)
