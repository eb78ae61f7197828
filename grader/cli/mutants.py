"""Commands for exercise authors: ``mutant list`` and ``mutant show`` (a mutant's bug and its
diff against the reference)."""

from __future__ import annotations

import difflib
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.syntax import Syntax

from grader.catalogue import Catalogue
from grader.cli.exercises import ExercisesDir
from grader.cli.output import console, error, stdout_is_terminal, table
from grader.errors import ExerciseInvalid
from grader.exercise import Exercise, Mutant


def mutant_diff(exercise: Exercise, mutant: Mutant) -> str:
    """A unified diff of ``mutant`` against the reference; ``ExerciseInvalid`` if it cannot
    be built."""
    reference = exercise.reference_path.read_text(encoding="utf-8")
    lines = difflib.unified_diff(
        reference.splitlines(keepends=True),
        mutant.source().splitlines(keepends=True),
        fromfile=f"reference/{exercise.meta.module}",
        tofile=f"mutant {mutant.name}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _find(exercise: Exercise, name: str) -> Mutant:
    """The mutant called ``name``; exit 2 naming the known ones when there is none."""
    mutants = exercise.mutants()
    for mutant in mutants:
        if mutant.name == name:
            return mutant
    known = ", ".join(m.name for m in mutants) or "none"
    error(f"no mutant {name!r} in {exercise.slug}; known: {known}")
    raise typer.Exit(2)


def show_mutant(
    slug: str,
    name: Annotated[str, typer.Argument(help="The mutant's name (see `grader mutant list`).")],
    exercises: ExercisesDir = None,
) -> None:
    """Print a mutant's bug and its diff against the reference solution."""
    exercise = Catalogue(exercises).get(slug)
    mutant = _find(exercise, name)
    diff = mutant_diff(exercise, mutant)
    if not stdout_is_terminal():
        sys.stdout.write(f"Bug: {mutant.bug}\n\n{diff}")
        return
    out = console()
    out.print(f"[bold]Bug:[/] {escape(mutant.bug)}\n")
    out.print(Syntax(diff, "diff", theme="ansi_dark", background_color="default", word_wrap=True))


def list_mutants(slug: str, exercises: ExercisesDir = None) -> None:
    """List an exercise's mutants: name, lines changed from the reference, and bug."""
    exercise = Catalogue(exercises).get(slug)
    rows = []
    for mutant in exercise.mutants():
        try:
            diff = mutant_diff(exercise, mutant).splitlines()
        except ExerciseInvalid:
            change = "does not apply"
        else:
            added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
            removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
            change = f"+{added} -{removed}" + (" (file)" if mutant.path else "")
        rows.append([mutant.name, change, mutant.bug])
    table(f"Mutants of {slug}", ["mutant", "lines", "bug"], rows)


def register(app: typer.Typer) -> None:
    """Add ``mutant list`` and ``mutant show`` to ``app``."""
    mutant_app = typer.Typer(
        help="Inspect an exercise's mutants (known-buggy variants of the reference).",
        no_args_is_help=True,
    )
    mutant_app.command("list")(list_mutants)
    mutant_app.command("show")(show_mutant)
    app.add_typer(mutant_app, name="mutant")
