"""Commands for practice repositories and saved reports: ``init-repo`` and ``report ...``.

``grader init-repo SLUG DIR`` writes a repository that grades every push in CI. Grading prints
one format per run, so CI saves the JSON report once and converts it with
``grader report convert``; ``grader report check`` turns the score into an exit status.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from grader.catalogue import Catalogue
from grader.cli.exercises import ExercisesDir
from grader.cli.grading import DEFAULT_FORMAT, Format, emit_report
from grader.cli.output import console, error
from grader.errors import GraderError
from grader.formats import STEP_SUMMARY_ENV
from grader.formats.common import percent
from grader.formats.github import command
from grader.practice import (
    DEFAULT_MIN_PERCENT,
    GITLAB_PATH,
    WORKFLOW_PATH,
    Options,
    write_practice_repo,
)
from grader.report import SCHEMA_VERSION, PublicReport, Report

report_app = typer.Typer(
    help="Convert and check saved grading reports (the JSON of `--format json`).",
    no_args_is_help=True,
)

ReportPath = Annotated[
    Path,
    typer.Argument(
        help="A public report saved with `--format json` ('-' reads stdin).", allow_dash=True
    ),
]


def init_repo(
    slug: str,
    directory: Annotated[Path, typer.Argument(help="Where to write the repository.")],
    min_percent: Annotated[
        float,
        typer.Option(
            "--min-percent",
            min=0,
            max=100,
            help="Score a push must reach, in percent of the maximum (GRADER_MIN_PERCENT).",
        ),
    ] = DEFAULT_MIN_PERCENT,
    pip_spec: Annotated[
        str | None,
        typer.Option(
            "--pip-spec",
            help="What the workflow gives `pip install` to get the grader (GRADER_PIP_SPEC): "
            "a version on an index, a Git URL at a commit, a wheel URL. Needed when this "
            "grader was installed from a local folder; for a grading server, what it offers.",
            show_default="how this grader was installed",
        ),
    ] = None,
    gitlab: Annotated[bool, typer.Option(help="Also write .gitlab-ci.yml.")] = False,
    force: Annotated[bool, typer.Option(help="Overwrite files that already exist.")] = False,
    exercises: ExercisesDir = None,
) -> None:
    """Write a practice repository: statement, stub, visible tests and a CI workflow that grades.

    The workflow installs the grader the way this one was installed (a version on an index, a
    Git URL at its commit, an archive URL); give --pip-spec when it was installed from a local
    folder, which CI cannot reach, or to install something else (e.g. a grading server's
    client).
    """
    exercise = Catalogue(exercises).get(slug)
    options = Options(pip_spec=pip_spec, min_percent=min_percent, gitlab=gitlab)
    try:
        write_practice_repo(exercise, directory, options, force=force)
    except GraderError as exc:
        error(str(exc))
        raise typer.Exit(2) from None
    ci = f"{WORKFLOW_PATH}" + (f" and {GITLAB_PATH}" if gitlab else "")
    out = console()
    out.print(
        f"Wrote the practice repository for [bold]{slug}[/] to {directory}/ ({ci}).", markup=True
    )
    out.print("Next:", markup=False)
    out.print(
        f"  cd {directory}\n"
        "  git init && git add . && git commit -m 'Start the exercise'\n"
        "  git remote add origin <your repository URL> && git push -u origin HEAD\n"
        "Set the repository secrets GRADER_URL and GRADER_TOKEN to grade on the server; "
        "without them every push grades locally (self-practice).",
        markup=False,
    )


def load_report(path: Path) -> PublicReport:
    """A saved public report; ``GraderError`` says why a file is not one."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GraderError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        report = PublicReport.model_validate_json(text)
    except ValidationError as exc:
        try:
            Report.model_validate_json(text)
        except ValidationError:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top)"
            raise GraderError(f"{path} is not a grading report ({where}: {first['msg']})") from None
        raise GraderError(
            f"{path} is a full report with grader-only detail; convert the public "
            "report (`--format json` without --full)"
        ) from None
    if report.schema_version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise GraderError(
            f"{path} has report schema {report.schema_version}; this grader reads "
            f"schema {SCHEMA_VERSION}"
        )
    return report


def _load_or_exit(path: Path) -> PublicReport:
    try:
        return load_report(path)
    except GraderError as exc:
        error(str(exc))
        raise typer.Exit(2) from None


@report_app.command()
def convert(
    report: ReportPath,
    output_format: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="text, json, junit, exercism, gradescope, github or markdown.",
        ),
    ] = DEFAULT_FORMAT,
    source_file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="The submission's module, relative to the workspace: `github` annotations "
            "are attached to it.",
        ),
    ] = None,
) -> None:
    """Print a saved public report in another format (exit 0 whatever its score)."""
    emit_report(_load_or_exit(report), output_format, source_file=source_file)


@report_app.command()
def check(
    report: ReportPath,
    min_percent: Annotated[
        float,
        typer.Option(
            "--min-percent",
            min=0,
            max=100,
            help="The score needed, in percent of the maximum.",
        ),
    ] = DEFAULT_MIN_PERCENT,
) -> None:
    """Exit 0 if the report's score reaches --min-percent of the maximum, else 1.

    In GitHub Actions a shortfall also becomes an annotation and a line of the step summary.
    """
    public = _load_or_exit(report)
    score = percent(public)
    reached = score + 1e-9 >= min_percent
    verdict = "reached" if reached else "not reached"
    line = (
        f"{public.exercise}: scored {score:.1f}% of the maximum; {min_percent:g}% required: "
        f"{verdict}"
    )
    print(line)
    if os.environ.get("GITHUB_ACTIONS") == "true" and not reached:
        print(command("error", line, title="Score below the required minimum"))
    summary_file = os.environ.get(STEP_SUMMARY_ENV, "")
    if summary_file:
        with Path(summary_file).open("a", encoding="utf-8") as summary:
            mark = "✅" if reached else "❌"
            summary.write(
                f"\n{mark} **Required score: {min_percent:g}% — {verdict}** (scored {score:.1f}%)\n"
            )
    raise typer.Exit(0 if reached else 1)


def register(app: typer.Typer) -> None:
    """Add these commands to ``app``."""
    app.command("init-repo")(init_repo)
    app.add_typer(report_app, name="report")
