"""Plain text for people: the headline, points by category, what went wrong, and the output.

This is what ``grader grade`` prints when its output is piped. The layout is made once, by
:func:`layout`, as blocks: lines of spans and tables. :func:`render` writes them as plain text
(a table as tab-separated lines under a header); on a terminal the CLI draws the same blocks
with colour and boxes (:mod:`grader.cli.output`), styling each span by its ``tone``.

Tests that did not pass are listed when the exercise shows their names (also after a run that
ended early, whose message says why); tests that did not pass for the same reason (the same
message) are listed under that reason, said once. The submission's output shows only when the
exercise shows hints. Everything that comes from a run passes through
:func:`grader.formats.common.clean`, so no escape sequence a submission prints reaches a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from grader.formats.common import Row, clean, mode_label, percent, points, rows
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


def _causes(failing: list[Row]) -> list[list[Row]]:
    """The failing tests grouped by what went wrong (their message), in order of first
    appearance; a test without a message is a group of its own."""
    order: list[list[Row]] = []
    by_cause: dict[str, list[Row]] = {}
    for row in failing:
        cause = row.test.message or ""
        group = by_cause.get(cause) if cause else None
        if group is None:
            group = []
            order.append(group)
            if cause:
                by_cause[cause] = group
        group.append(row)
    return order


def _failures(failing: list[Row]) -> list[Block]:
    """What went wrong, one cause at a time: a cause shared by several tests is said once."""
    blocks: list[Block] = []
    for group in _causes(failing):
        shared = len(group) > 1
        if shared:
            if blocks and blocks[-1]:
                blocks.append(())  # a shared cause stands apart from the tests around it
            cause = clean(group[0].test.message)
            blocks.append((Span(f"same cause in {len(group)} tests: "), Span(cause, "bad")))
        for row in group:
            status = row.test.status.value
            blocks.append((Span(f"{status:>7}", status), Span(f" {row.test.category}/{row.label}")))
            if row.hint:
                blocks.append((Span(f"{_INDENT}expected: {row.hint}"),))
            if row.test.message and not shared:
                blocks.append((Span(f"{_INDENT}got: {clean(row.test.message)}"),))
        if shared:
            blocks.append(())
    while blocks and not blocks[-1]:
        blocks.pop()
    return blocks


def layout(report: PublicReport) -> list[Block]:
    """The report as lines and tables, in the order they are shown."""
    tone = "good" if report.status is RunStatus.PASSED else "bad"
    score = f"{points(report.score)}/{points(report.max_score)} ({percent(report):.1f}%)"
    blocks: list[Block] = [
        (
            Span(clean(report.exercise), "strong"),
            Span(": "),
            Span(report.status.value, tone),
            Span(f"  score {score}  "),
            Span(f"{report.duration:.2f} s, {clean(mode_label(report))} mode", "muted"),
        )
    ]
    if report.message:
        blocks.append((Span(clean(report.message), tone),))
    blocks.append(
        Table(
            "Categories",
            ("category", "passed", "points"),
            tuple(
                (clean(c.name), f"{c.passed}/{c.total}", f"{points(c.score)}/{points(c.max_score)}")
                for c in report.categories
            ),
        )
    )
    failing = [row for row in rows(report) if row.test.status is not TestStatus.PASSED]
    # Always: a run that ended early (its message says why) still shows what failed.
    if failing and failing[0].test.name is not None:
        blocks.append(())
        blocks += _failures(failing)
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
