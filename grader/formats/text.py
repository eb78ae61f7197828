"""Plain text for people: the headline, points by category, what went wrong, and the output.

This is what ``grader grade`` prints when its output is piped. The layout is made once, by
:func:`layout`, as blocks: lines of spans and tables. :func:`render` writes them as plain text
(a table as tab-separated lines under a header); on a terminal the CLI draws the same blocks
with colour and boxes (:mod:`grader.cli.output`), styling each span by its ``tone``.

Tests that did not pass are listed only when the exercise shows their names and the run has no
message of its own (an error or time-out of the whole run); the submission's output shows only
when the exercise shows hints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from grader.formats.common import clean, mode_label, percent, rows
from grader.report import PublicReport, RunStatus, TestStatus

#: How much of the end of the submission's output is shown, in characters.
OUTPUT_TAIL = 2000

#: Indent of the lines under a failed test.
_INDENT = " " * 10


@dataclass(frozen=True)
class Span:
    """A piece of a line, and what it is, for a terminal to style.

    ``tone`` is ``strong``, ``muted``, ``good``, ``bad``, a test status (``failed``...) or empty;
    plain text ignores it.
    """

    text: str
    tone: str = ""


@dataclass(frozen=True)
class Table:
    """A titled table of text cells."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


#: One line of text; the empty line is ``()``.
Line: TypeAlias = tuple[Span, ...]
Block: TypeAlias = Line | Table


def tsv(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A table as plain lines: a header, then one tab-separated line per row."""
    return ["\t".join(columns), *("\t".join(row) for row in rows)]


def layout(report: PublicReport) -> list[Block]:
    """The report as lines and tables, in the order they are shown."""
    tone = "good" if report.status is RunStatus.PASSED else "bad"
    blocks: list[Block] = [
        (
            Span(report.exercise, "strong"),
            Span(": "),
            Span(report.status.value, tone),
            Span(f"  score {report.score:g}/{report.max_score:g} ({percent(report):.1f}%)  "),
            Span(f"{report.duration:.2f} s, {mode_label(report)} mode", "muted"),
        )
    ]
    if report.message:
        blocks.append((Span(clean(report.message), tone),))
    blocks.append(
        Table(
            "Categories",
            ("category", "passed", "points"),
            tuple(
                (c.name, f"{c.passed}/{c.total}", f"{c.score:g}/{c.max_score:g}")
                for c in report.categories
            ),
        )
    )
    failing = [row for row in rows(report) if row.test.status is not TestStatus.PASSED]
    if failing and failing[0].test.name is not None and not report.message:
        blocks.append(())
        for row in failing:
            status = row.test.status.value
            blocks.append((Span(f"{status:>7}", status), Span(f" {row.test.category}/{row.label}")))
            if row.hint:
                blocks.append((Span(f"{_INDENT}expected: {row.hint}"),))
            if row.test.message:
                blocks.append((Span(f"{_INDENT}got: {clean(row.test.message)}"),))
    if report.output.strip():
        blocks += [
            (),
            (Span("your code's output (last part):", "muted"),),
            (Span(clean(report.output[-OUTPUT_TAIL:]).rstrip()),),
        ]
    return blocks


def render(report: PublicReport) -> str:
    """The report as plain text."""
    lines: list[str] = []
    for block in layout(report):
        if isinstance(block, Table):
            lines += tsv(block.columns, block.rows)
        else:
            lines.append("".join(span.text for span in block))
    return "\n".join(lines) + "\n"
