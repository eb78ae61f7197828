"""A Markdown summary of a grading run, for ``$GITHUB_STEP_SUMMARY``, merge requests or chat.

GitHub-flavoured Markdown: a headline with the score, a table of points by category, the tests
that did not pass (when the exercise shows names), and the candidate's own output (when it
shows hints) folded away. Text that comes from a run is escaped so it cannot add HTML or
break the layout, and output sits in a fence it cannot close.
"""

from __future__ import annotations

import re

from grader.formats.common import (
    RUN_WORDS,
    Row,
    clean,
    mode_label,
    percent,
    points,
    rows,
    started_utc,
    tests_passed,
)
from grader.report import PublicReport, RunStatus, TestStatus

#: At most this many tests are listed; the rest are counted.
MAX_LISTED = 25

_RUN_ICON = {
    RunStatus.PASSED: "✅",
    RunStatus.FAILED: "❌",
    RunStatus.ERROR: "💥",
    RunStatus.TIMEOUT: "⏱️",
}
_TEST_ICON = {
    TestStatus.FAILED: "❌",
    TestStatus.ERROR: "💥",
    TestStatus.TIMEOUT: "⏱️",
    TestStatus.SKIPPED: "⏭️",
    TestStatus.NOT_RUN: "⏭️",
}


def escape(text: str) -> str:
    """Inline text that renders literally: no HTML, no table breaks, one line."""
    text = clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.replace("|", "\\|").split())


def code_span(text: str) -> str:
    """``text`` as inline code, whatever backticks it holds."""
    text = " ".join(clean(text).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str, info: str = "text") -> str:
    """``text`` in a fenced block whose fence no backtick run inside can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{clean(text).rstrip()}\n{fence}"


def _test_line(row: Row) -> list[str]:
    """One test that did not pass, with its expectation when the exercise shows it."""
    lines = [
        f"- {_TEST_ICON[row.test.status]} **{escape(row.status_word)}** "
        f"{code_span(row.test.category)} · {code_span(row.label)}"
    ]
    if row.hint:
        lines.append(f"  - Expected: {escape(row.hint)}")
        lines.append(f"  - Got: {escape(row.message)}")
    return lines


def render(report: PublicReport) -> str:
    """The report as a Markdown summary."""
    out = [
        f"## {_RUN_ICON[report.status]} {escape(report.exercise)}: {RUN_WORDS[report.status]}",
        "",
        f"**Score: {points(report.score)} / {points(report.max_score)} "
        f"({percent(report):.1f}%)** · {tests_passed(report)} of {len(report.tests)} "
        "hidden tests passed",
        "",
    ]
    if report.message:
        out += [f"> **{escape(report.message)}**", ""]
    out += ["| Category | Tests passed | Points |", "| --- | ---: | ---: |"]
    out += [
        f"| {escape(c.name)} | {c.passed}/{c.total} | {points(c.score)}/{points(c.max_score)} |"
        for c in report.categories
    ]
    out += [
        f"| **Total** | **{tests_passed(report)}/{len(report.tests)}** | "
        f"**{points(report.score)}/{points(report.max_score)}** |",
        "",
    ]
    failing = [row for row in rows(report) if row.test.status is not TestStatus.PASSED]
    if failing and report.status is not RunStatus.ERROR:
        if report.tests and report.tests[0].name is None:
            out += ["This exercise shows scores only, not the names of its hidden tests.", ""]
        else:
            out += ["### Hidden tests that did not pass", ""]
            for row in failing[:MAX_LISTED]:
                out += _test_line(row)
            if len(failing) > MAX_LISTED:
                out.append(f"- … and {len(failing) - MAX_LISTED} more")
            out.append("")
    if report.output.strip():
        out += [
            "<details><summary>Your code's output (last part)</summary>",
            "",
            code_block(report.output),
            "",
            "</details>",
            "",
        ]
    suite = report.suite_hash.split(":")[-1][:12]
    out.append(
        f"<sub>hidden-grader {escape(report.grader_version)} · {escape(mode_label(report))} mode · "
        f"{report.duration:.2f} s · {started_utc(report, '%Y-%m-%d %H:%M UTC')} · "
        f"suite {escape(suite)}</sub>"
    )
    return "\n".join(out) + "\n"
