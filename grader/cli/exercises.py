"""Commands for candidates: list and read exercises, start one, run its visible tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown

from grader.catalogue import Catalogue
from grader.cli.options import from_settings
from grader.cli.output import console, error, stdout_is_terminal, table

#: The flag, else ``$GRADER_EXERCISES_DIR`` (through the settings), else ``None``: the shipped
#: exercises.
ExercisesDir = Annotated[
    Path | None,
    typer.Option(
        "--exercises",
        help="Directory of exercises to use instead of the shipped ones.",
        show_default="$GRADER_EXERCISES_DIR, else the shipped exercises",
        callback=from_settings("exercises_dir"),
    ),
]


def list_exercises(exercises: ExercisesDir = None) -> None:
    """List the available exercises."""
    catalogue = Catalogue(exercises)
    rows = [[e.slug, e.meta.title, e.meta.difficulty, e.meta.summary] for e in catalogue.all()]
    table("Exercises", ["slug", "title", "difficulty", "summary"], rows)


def show(slug: str, exercises: ExercisesDir = None) -> None:
    """Print an exercise's statement."""
    statement = Catalogue(exercises).get(slug).statement
    if stdout_is_terminal():
        console().print(Markdown(statement))
    else:
        sys.stdout.write(statement)


def start(
    slug: str,
    directory: Annotated[
        Path | None, typer.Argument(help="Working folder (default: ./SLUG).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite files that already exist.")] = False,
    exercises: ExercisesDir = None,
) -> None:
    """Copy an exercise's statement, stub and visible tests into a working folder."""
    exercise = Catalogue(exercises).get(slug)
    target = directory or Path(slug)
    files = {
        exercise.root / "README.md": target / "README.md",
        exercise.stub_path: target / exercise.meta.module,
    }
    files.update({test: target / test.name for test in exercise.visible_tests()})
    clashes = [str(dst) for dst in files.values() if dst.exists()]
    if clashes and not force:
        error(f"would overwrite {', '.join(clashes)}; use --force to replace them")
        raise typer.Exit(2)
    target.mkdir(parents=True, exist_ok=True)
    for src, dst in files.items():
        shutil.copyfile(src, dst)
    console().print(
        f"Started [bold]{slug}[/] in {target}/: edit {exercise.meta.module}, then run "
        f"`grader test {target}` and `grader grade {slug} {target}`."
    )


def test(
    directory: Annotated[Path, typer.Argument(help="The working folder.")] = Path("."),
) -> None:
    """Run the visible tests in a working folder (exit 0 when they pass)."""
    if not directory.is_dir():
        error(f"no such folder: {directory}")
        raise typer.Exit(2)
    # pytest runs inside the folder (so the module imports as the tests expect), on ".": the
    # folder's own path may be relative to where the command was typed, not to itself.
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "."],
        cwd=directory,
        check=False,
    )
    raise typer.Exit(0 if proc.returncode == 0 else 1)


def register(app: typer.Typer) -> None:
    """Add these commands to ``app``."""
    app.command("list")(list_exercises)
    app.command()(show)
    app.command()(start)
    app.command()(test)
