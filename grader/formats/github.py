"""GitHub Actions workflow commands: annotations for the tests that did not pass, and the summary.

Lines follow the workflow-command syntax ``::error title=TITLE::MESSAGE`` (also ``warning`` and
``notice``); values are escaped as the Actions toolkit does: ``%``, CR and LF as ``%25``,
``%0D`` and ``%0A`` everywhere, and ``:`` and ``,`` as ``%3A`` and ``%2C`` in properties. A
syntax error in the submission is annotated on its file and line, and every other annotation on
the submission's module (``file=``, when the caller says where it is), so it shows on that file
in a pull request's diff as well as on the run's page. GitHub shows at most ten
annotations of each kind per step, so further failures are folded into one. The Markdown
summary follows inside a collapsed log group; the CLI also appends it to
``$GITHUB_STEP_SUMMARY`` when that is set.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath

from grader.formats import markdown
from grader.formats.common import STATUS_PHRASES, Row, clean, headline, rows
from grader.report import PublicReport, RunStatus, TestStatus

#: GitHub shows this many annotations of one kind per step.
MAX_ANNOTATIONS = 10

_SYNTAX = re.compile(
    r"syntax error in (?P<file>[\w.-]+\.py) at line (?P<line>\d+)"
    r"(?:, column (?P<col>\d+))?"
)


def escape_data(text: str) -> str:
    """A workflow command's message, escaped."""
    return clean(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value, escaped."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    """One workflow command line, e.g. ``::error title=...::message``."""
    props = ",".join(
        f"{key}={escape_property(value)}" for key, value in properties.items() if value
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _run_annotation(report: PublicReport, source_file: str | None) -> str:
    """The annotation for a run that failed as a whole, on the offending line if known."""
    found = _SYNTAX.search(report.message)
    where = {"file": source_file or ""}
    if found:
        same = source_file is not None and PurePosixPath(source_file).name == found["file"]
        where = {
            "file": source_file if same and source_file else found["file"],
            "line": found["line"],
            "col": found["col"] or "",
        }
    return command(
        "error", report.message, **where, title=f"{report.exercise}: {report.status.value}"
    )


def _test_annotation(row: Row, source_file: str | None) -> str:
    """The annotation for one test that did not pass."""
    kind = "warning" if row.test.status is TestStatus.SKIPPED else "error"
    where = f"{row.test.category} / {row.label}" if row.test.name else row.label
    title = f"Hidden test {row.status_word}: {where}"
    message = (
        f"Expected: {row.hint}\nGot: {row.message}"
        if row.hint
        else (f"A hidden test in {row.test.category} {STATUS_PHRASES[row.test.status]}.")
    )
    return command(kind, message, file=source_file or "", title=title)


def annotation_lines(report: PublicReport, source_file: str | None = None) -> list[str]:
    """Workflow commands for what went wrong, within GitHub's per-step limits, attached to
    ``source_file`` (the submission's module, relative to the workspace) when given."""
    lines = []
    budget = MAX_ANNOTATIONS
    if report.message:
        lines.append(_run_annotation(report, source_file))
        budget -= 1
    failing = (
        []
        if report.status is RunStatus.ERROR
        else [row for row in rows(report) if row.test.status is not TestStatus.PASSED]
    )
    shown = failing if len(failing) <= budget else failing[: budget - 1]
    lines += [_test_annotation(row, source_file) for row in shown]
    if len(failing) > len(shown):
        lines.append(
            command(
                "error",
                f"{len(failing) - len(shown)} more hidden tests did not pass; see the job summary.",
                file=source_file or "",
                title="More hidden tests",
            )
        )
    lines.append(command("notice", headline(report), title="Hidden tests score"))
    return lines


def render(report: PublicReport, source_file: str | None = None) -> str:
    """Annotations (on ``source_file`` when given), then the Markdown summary in a collapsed
    log group.

    The summary may quote the submission's output, so workflow commands are paused around it
    (``::stop-commands::``) with a token derived from the summary itself, which the output
    cannot predict.
    """
    summary = markdown.render(report).rstrip("\n")
    token = "grader-" + hashlib.sha256(summary.encode("utf-8", "replace")).hexdigest()[:20]
    group = [
        "::group::Grading summary",
        f"::stop-commands::{token}",
        summary,
        f"::{token}::",
        "::endgroup::",
    ]
    return "\n".join([*annotation_lines(report, source_file), *group]) + "\n"
