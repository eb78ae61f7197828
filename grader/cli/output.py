"""Terminal output: rich tables and colour on a terminal, plain text when piped.

Colour follows the conventions: ``NO_COLOR`` (set and not empty) turns it off everywhere;
``FORCE_COLOR`` (set and not empty) turns it on when output is piped, e.g. into ``less -R``.
Layout (boxes or tab-separated lines) follows only whether standard output is a terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader import formats
from grader.formats import text
from grader.report import PublicReport

_STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "yellow", "skipped": "dim"}
#: How each tone of :class:`grader.formats.text.Span` looks on a terminal.
_TONES = {"strong": "bold", "muted": "dim", "good": "green", "bad": "red", **_STYLE}


class OutputClosed(Exception):
    """Whoever read standard output stopped reading (``grader grade ... | head -1``)."""


class _Console(Console):
    """A rich console whose broken pipe ends the command quietly (rich's own default is a
    plain exit 1, indistinguishable from a failed grade)."""

    def on_broken_pipe(self) -> None:
        raise OutputClosed


def stdout_is_terminal() -> bool:
    """Whether a person is watching standard output."""
    return sys.stdout.isatty()


def colour_forced() -> bool:
    """Whether ``FORCE_COLOR`` asks for colour on piped output (``NO_COLOR`` wins)."""
    return os.environ.get("FORCE_COLOR", "") != "" and os.environ.get("NO_COLOR", "") == ""


def console() -> Console:
    """A console for standard output; colour and boxes only on a terminal (rich itself honours
    ``NO_COLOR`` and ``FORCE_COLOR``)."""
    return _Console(highlight=False, soft_wrap=not stdout_is_terminal())


def error(message: str) -> None:
    """Print a one-line error to standard error."""
    _Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/] {_escape(message)}", markup=True
    )


_warned: set[str] = set()


def warn(message: str | None) -> None:
    """Print a one-line warning to standard error, once per process whoever asks again."""
    if not message or message in _warned:
        return
    _warned.add(message)
    _Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold yellow]warning:[/] {_escape(message)}", markup=True
    )


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table on a terminal; tab-separated lines with a header when piped."""
    if not stdout_is_terminal():
        for line in text.tsv(columns, rows):
            print(line)
        return
    view = Table(title=_escape(title), title_justify="left")
    for column in columns:
        view.add_column(column, overflow="fold")
    for row in rows:
        view.add_row(*(_styled(cell) for cell in row))
    console().print(view)


def _styled(cell: str) -> str:
    """Colour a status word."""
    style = _STYLE.get(cell) or {"ok": "green", "FAIL": "bold red", "warn": "yellow"}.get(cell)
    return f"[{style}]{cell}[/]" if style else cell.replace("[", "\\[")


def print_report(report: PublicReport) -> None:
    """A public report for a person: the ``text`` format, drawn with colour and boxes on a
    terminal (its layout is :func:`grader.formats.text.layout`); piped, plain text, coloured
    only when ``FORCE_COLOR`` asks."""
    if not stdout_is_terminal() and not colour_forced():
        formats.emit(report, "text")
        return
    out = console()
    for block in text.layout(report):
        if isinstance(block, text.Table):
            table(block.title, block.columns, block.rows)
        else:
            out.print(Text.assemble(*((span.text, _TONES.get(span.tone, "")) for span in block)))


def _escape(value: str) -> str:
    """Keep submission text from being read as rich markup."""
    return value.replace("[", "\\[")
