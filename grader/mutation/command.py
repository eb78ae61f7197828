"""The body of ``grader validate --mutate``: mutate each chosen exercise, with a progress bar on
a terminal, then print the outcome and give the exit code."""

from __future__ import annotations

import time
from functools import partial

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from grader.catalogue import Catalogue
from grader.cli.output import stdout_is_terminal
from grader.mutation.operators import OPERATORS
from grader.mutation.report import as_json, show
from grader.mutation.run import ExerciseRun, MutantResult, mutate_exercise


def parse_operators(value: str | None) -> set[str] | None:
    """``--operators cmp,lock`` as a set of names; ``BadParameter`` naming the known ones."""
    if value is None:
        return None
    names = {name.strip() for name in value.split(",") if name.strip()}
    unknown = sorted(names - OPERATORS.keys())
    if unknown or not names:
        raise typer.BadParameter(
            f"unknown operator(s) {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(OPERATORS)}",
            param_hint="--operators",
        )
    return names


def run_mutate(
    catalogue: Catalogue,
    slugs: list[str] | None,
    operators: str | None = None,
    sample: int | None = None,
    workers: int | None = None,
) -> int:
    """Mutate the exercises named by ``slugs`` (all by default), show the outcome, and return
    the exit code: 0 when no exercise has an unlisted survivor, a stale equivalent or a
    failing reference, else 1."""
    chosen_operators = parse_operators(operators)
    exercises = [catalogue.get(slug) for slug in (slugs or catalogue.slugs())]
    started = time.monotonic()
    runs: list[ExerciseRun] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, disable=not stdout_is_terminal()) as progress:
        for exercise in exercises:
            task = progress.add_task(f"mutating {exercise.slug}", total=None)
            runs.append(
                mutate_exercise(
                    exercise,
                    workers=workers,
                    operators=chosen_operators,
                    sample=sample,
                    on_planned=partial(_set_total, progress, task),
                    on_graded=partial(_advance, progress, task),
                )
            )
            progress.remove_task(task)
    seconds = time.monotonic() - started
    if stdout_is_terminal():
        show(runs, seconds)
    else:
        print(as_json(runs, seconds))
    return 0 if all(run.ok for run in runs) else 1


def _set_total(progress: Progress, task: TaskID, total: int) -> None:
    """Size the bar once the number of mutants to grade is known."""
    progress.update(task, total=total)


def _advance(progress: Progress, task: TaskID, _result: MutantResult) -> None:
    """Count one graded mutant."""
    progress.advance(task)
