"""Commands that grade: ``grade``, ``validate`` and ``schema``."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, TaskID

from grader import formats
from grader.catalogue import Catalogue
from grader.cli.exercises import ExercisesDir
from grader.cli.options import from_settings
from grader.cli.output import console, print_report, stdout_is_terminal, table, warn
from grader.cli.submission_path import check_path, module_file
from grader.formats.common import clean
from grader.grading import grade as grade_submission
from grader.harness.runner import SuiteRunner
from grader.hint_lint import hint_check
from grader.mutation.command import run_mutate
from grader.public import to_public
from grader.report import PublicReport, Report, report_schema
from grader.runners import make_runner
from grader.settings import SandboxChoice, grader_settings
from grader.submission import from_path
from grader.validation import Check, validate_exercise

#: Output formats of ``grader grade``: the names in the :data:`grader.formats.FORMATS` registry.
#: Members are made from the registry, so type checkers cannot list them: write ``Format("json")``.
Format = StrEnum(  # type: ignore[misc]
    "Format", [(name.upper(), name) for name in formats.FORMATS], module=__name__
)
#: What commands that print a report print by default: text for people.
DEFAULT_FORMAT = Format("text")


def _sandbox_option(default: SandboxChoice) -> Any:
    """``--sandbox``: the flag, else ``$GRADER_SANDBOX`` (through the settings), else
    ``None``, which the command reads as ``default``."""
    return typer.Option(
        "--sandbox",
        help="Where the submission runs: auto (Docker if available, else a process "
        "sandbox), docker, process, or none (direct mode, trusted code only).",
        show_default=f"$GRADER_SANDBOX, else {default.value}",
        callback=from_settings("sandbox"),
    )


def grade(
    slug: str,
    path: Annotated[Path, typer.Argument(help="The module file, or a folder holding it.")],
    output_format: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="text, json (the versioned public report), junit, exercism, "
            "gradescope, github (annotations and summary) or markdown.",
        ),
    ] = DEFAULT_FORMAT,
    sandbox: Annotated[SandboxChoice | None, _sandbox_option(SandboxChoice.AUTO)] = None,
    full: Annotated[
        bool, typer.Option(help="Show grader-only detail (for exercise authors).")
    ] = False,
    exercises: ExercisesDir = None,
) -> None:
    """Grade a submission against the exercise's hidden suite (exit 0 only when it passes)."""
    exercise = Catalogue(exercises).get(slug)
    check_path(path, exercise.meta.module)
    # Warm sandboxes here too: a submission that hangs costs a fresh sandbox per test. No
    # fork server: loading it costs more than one grading's children would save.
    runner, warning = _make_runner(sandbox or SandboxChoice.AUTO, warm=True, forks=False)
    warn(warning)
    report = grade_submission(exercise, from_path(path, exercise.meta.module), runner)
    public = to_public(report, exercise.meta.visibility, exercise.meta.canary)
    source = module_file(path, exercise.meta.module)
    emit_report(public, output_format, full=report if full else None, source_file=source)
    raise typer.Exit(0 if report.passed else 1)


def emit_report(
    public: PublicReport,
    output_format: Format,
    full: Report | None = None,
    *,
    source_file: str | None = None,
) -> None:
    """Print a report in the chosen format (``full`` adds grader-only detail to text and json;
    ``github`` annotations are attached to ``source_file``, the submission's module)."""
    if output_format == "json" and full is not None:
        print(full.model_dump_json(indent=2))
        return
    if output_format != "text":
        formats.emit(public, output_format.value, source_file=source_file)
        return
    print_report(public)
    for test in full.tests if full else []:
        if test.detail:  # quotes the submission's values: neutralised like the report
            console().print(f"\n{clean(test.name)}", markup=False, style="bold")
            console().print(clean(test.detail), markup=False)


def validate(
    slugs: Annotated[
        list[str] | None, typer.Argument(help="Exercises to check (default: all).")
    ] = None,
    runs: Annotated[int, typer.Option(min=1, help="How many times the reference must pass.")] = 5,
    sandbox: Annotated[SandboxChoice | None, _sandbox_option(SandboxChoice.NONE)] = None,
    tamper: Annotated[
        bool,
        typer.Option(
            "--tamper",
            help="Append the generic tamperer to the reference and every mutant (needs a "
            "sandbox): scores must not change, proving no test trusts the sandbox.",
        ),
    ] = False,
    mutate: Annotated[
        bool,
        typer.Option(
            "--mutate",
            help="Instead of the usual checks, grade machine mutants of each reference (in "
            "direct mode): fail on a survivor not listed in equivalent-mutants.toml.",
        ),
    ] = False,
    sample: Annotated[
        int | None,
        typer.Option(min=1, help="With --mutate: grade a fixed subset of N mutants each."),
    ] = None,
    operators: Annotated[
        str | None,
        typer.Option(help="With --mutate: only these operators, e.g. cmp,lock."),
    ] = None,
    record_timing: Annotated[
        bool,
        typer.Option(
            help="Store the reference's per-test times as the exercise's timing profile "
            "(timing.json), from which grading sets each test's deadline.",
        ),
    ] = True,
    exercises: ExercisesDir = None,
) -> None:
    """Prove hidden suites exact: reference always 100%, stub 0, every mutant below 100%.

    With a sandbox, the stub and every mutant are graded in direct mode too, and both modes
    must give the same score. With --tamper, the reference and every mutant run with a
    tamperer that rewrites every kit-looking object and timer in the sandbox. With --mutate,
    machine mutants of each reference are graded instead (docs/writing-an-exercise.md).
    """
    if mutate:
        if tamper:
            raise typer.BadParameter("--mutate grades in direct mode: drop --tamper")
        if sandbox not in (None, SandboxChoice.NONE):
            print(
                f"note: --mutate grades in direct mode; ignoring sandbox {sandbox.value}",
                file=sys.stderr,
            )
        raise typer.Exit(run_mutate(Catalogue(exercises), slugs, operators, sample))
    sandbox = sandbox or SandboxChoice.NONE
    if tamper and sandbox is SandboxChoice.NONE:
        raise typer.BadParameter(
            "--tamper needs a sandbox (--sandbox docker|process|auto): in direct mode the "
            "submission shares the harness's process, which is for trusted code only"
        )
    catalogue = Catalogue(exercises)
    chosen = [catalogue.get(slug) for slug in (slugs or catalogue.slugs())]
    # One runner for every grading: the backend is checked once and, for Docker, a pool of
    # warm sandboxes serves them all.
    runner, warning = _make_runner(sandbox, warm=True)
    if sandbox is not SandboxChoice.NONE:  # direct mode is validate's documented default
        warn(warning)
    checks: list[Check] = []
    with Progress(transient=True, disable=not stdout_is_terminal()) as progress:
        for exercise in chosen:
            task = progress.add_task(f"validating {exercise.slug}", total=None)
            result = validate_exercise(
                exercise,
                lambda: runner,
                runs=runs,
                compare_direct=sandbox is not SandboxChoice.NONE,
                tamper=tamper,
                record_timing=record_timing,
                progress=partial(_advance, progress, task),
            )
            checks += result.checks
            checks.append(hint_check(exercise))  # docs/writing-an-exercise.md, "Hints"
            progress.remove_task(task)
    table(
        "Validation",
        ["exercise", "check", "expected", "result", "ok"],
        [[c.exercise, c.subject, c.expected, c.result, "ok" if c.ok else "FAIL"] for c in checks],
    )
    failed = [c for c in checks if not c.ok]
    summary = f"{len(checks) - len(failed)}/{len(checks)} checks passed"
    console().print(summary if not failed else f"[bold red]{summary}[/]")
    raise typer.Exit(1 if failed else 0)


def _advance(progress: Progress, task: TaskID, _check: Check) -> None:
    """Count one finished check on the progress bar."""
    progress.advance(task)


def _make_runner(
    sandbox: SandboxChoice, warm: bool = False, forks: bool | None = None
) -> tuple[SuiteRunner, str | None]:
    """A runner for the chosen ``sandbox`` with the configured runner image and runtime;
    ``warm``: with the configured pool of warm sandboxes (for many gradings in a row), and
    unless ``forks`` is ``False`` harness children forked from a fork server."""
    settings = grader_settings()
    return make_runner(
        sandbox,
        settings.sandbox_image,
        settings.sandbox_runtime,
        warm=settings.warm_pool() if warm else None,
        forks=forks,
    )


def schema(
    public: Annotated[bool, typer.Option(help="The public (candidate) report's schema.")] = False,
) -> None:
    """Print the JSON Schema of the grading report."""
    print(json.dumps(report_schema(public), indent=2))


def register(app: typer.Typer) -> None:
    """Add these commands to ``app``."""
    app.command()(grade)
    app.command()(validate)
    app.command()(schema)
