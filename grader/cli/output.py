"""Terminal output: rich tables and colour on a terminal, plain text when piped."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from grader.report import PublicReport, RunStatus, TestStatus

_STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "yellow", "skipped": "dim"}


def stdout_is_terminal() -> bool:
    """Whether a person is watching standard output."""
    return sys.stdout.isatty()


def console() -> Console:
    """A console for standard output; colour and boxes only on a terminal."""
    return Console(highlight=False, soft_wrap=not stdout_is_terminal())


def error(message: str) -> None:
    """Print a one-line error to standard error."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/] {_escape(message)}", markup=True
    )


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table on a terminal; tab-separated lines with a header when piped."""
    if not stdout_is_terminal():
        print("\t".join(columns))
        for row in rows:
            print("\t".join(row))
        return
    view = Table(title=title, title_justify="left")
    for column in columns:
        view.add_column(column)
    for row in rows:
        view.add_row(*(_styled(cell) for cell in row))
    console().print(view)


def _styled(cell: str) -> str:
    """Colour a status word."""
    style = _STYLE.get(cell) or {"ok": "green", "FAIL": "bold red"}.get(cell)
    return f"[{style}]{cell}[/]" if style else cell.replace("[", "\\[")


def print_report(report: PublicReport) -> None:
    """The human-readable form of a public report."""
    out = console()
    pct = 100 * report.score / report.max_score if report.max_score else 0.0
    colour = "green" if report.status is RunStatus.PASSED else "red"
    where = f"isolated ({report.sandbox})" if report.mode == "isolated" else report.mode
    out.print(
        f"[bold]{report.exercise}[/]: [{colour}]{report.status.value}[/]  "
        f"score {report.score:g}/{report.max_score:g} ({pct:.1f}%)  "
        f"[dim]{report.duration:.2f} s, {where} mode[/]"
    )
    if report.message:
        out.print(f"[{colour}]{_escape(report.message)}[/]")
    table(
        "Categories",
        ["category", "passed", "points"],
        [
            [c.name, f"{c.passed}/{c.total}", f"{c.score:g}/{c.max_score:g}"]
            for c in report.categories
        ],
    )
    failing = [t for t in report.tests if t.status is not TestStatus.PASSED]
    if failing and failing[0].name is not None and not report.message:
        out.print()
        for test in failing:
            out.print(
                f"[{_STYLE[test.status.value]}]{test.status.value:>7}[/] "
                f"{test.category}/{_escape(test.name or '')}"
            )
            if test.hint:
                out.print(f"          expected: {_escape(test.hint)}")
            if test.message:
                out.print(f"          got: {_escape(test.message)}")
    if report.output.strip():
        out.print("\n[dim]your code's output (last part):[/]")
        out.print(_escape(report.output[-2000:]), markup=False)


def _escape(text: str) -> str:
    """Keep submission text from being read as rich markup."""
    return text.replace("[", "\\[")
