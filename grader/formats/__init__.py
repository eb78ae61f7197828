"""Render a candidate's report in the formats other tools read.

Every renderer takes the :class:`~grader.report.PublicReport` (what a candidate may see) and
returns text; none can reach grader-only detail. One module per format:

- ``text``: plain text for people, what ``grader grade`` prints (:mod:`grader.formats.text`);
- ``json``: the versioned public report itself (the published schema);
- ``junit``: JUnit XML for CI test reporters (:mod:`grader.formats.junit`);
- ``exercism``: Exercism's test-runner ``results.json`` v3 (:mod:`grader.formats.exercism`);
- ``gradescope``: Gradescope's autograder ``results.json`` (:mod:`grader.formats.gradescope`);
- ``github``: GitHub Actions annotations plus the summary (:mod:`grader.formats.github`);
- ``markdown``: the summary alone (:mod:`grader.formats.markdown`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from grader.formats import exercism, github, gradescope, junit, markdown, text
from grader.report import PublicReport

#: Environment variable GitHub Actions sets to the file a step's Markdown summary goes to.
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def _json(report: PublicReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


_RENDERERS: dict[str, Callable[[PublicReport], str]] = {
    "text": text.render,
    "json": _json,
    "junit": junit.render,
    "exercism": exercism.render,
    "gradescope": gradescope.render,
    "github": github.render,
    "markdown": markdown.render,
}

#: The format names :func:`render` knows (the CLI's ``--format`` choices, in this order).
FORMATS: tuple[str, ...] = tuple(_RENDERERS)


def render(report: PublicReport, fmt: str, *, source_file: str | None = None) -> str:
    """``report`` in the format named ``fmt`` (one of :data:`FORMATS`), ending in a newline.

    ``source_file``: where the submission's module is, relative to the CI workspace; the
    ``github`` annotations are attached to it (the other formats have no place for it).
    """
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        known = ", ".join(FORMATS)
        raise ValueError(f"unknown report format {fmt!r}; choose from {known}") from None
    if fmt == "github":
        return github.render(report, source_file)
    return renderer(report)


def _write_stdout(document: str) -> None:
    """Write UTF-8 to standard output whatever its encoding (XML and JSON declare UTF-8)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(document)
        return
    sys.stdout.flush()
    buffer.write(document.encode("utf-8"))
    buffer.flush()


def emit(
    report: PublicReport, fmt: str, out: TextIO | None = None, *, source_file: str | None = None
) -> None:
    """Write ``report`` as ``fmt`` to ``out`` (standard output by default); ``source_file`` as
    for :func:`render`.

    For ``github``, the Markdown summary is also appended to ``$GITHUB_STEP_SUMMARY`` when that
    variable names a file, as it does in a GitHub Actions step.
    """
    rendered = render(report, fmt, source_file=source_file)
    if out is None:
        _write_stdout(rendered)
    else:
        out.write(rendered)
    summary_file = os.environ.get(STEP_SUMMARY_ENV, "")
    if fmt == "github" and summary_file:
        with Path(summary_file).open("a", encoding="utf-8") as summary:
            summary.write(markdown.render(report))
