"""Helpers shared by the renderers: names, wording and text hygiene.

Everything here reads only a :class:`~grader.report.PublicReport`, the report a candidate may
see, or fields every report shares, so no renderer can leak grader-only detail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from grader.report import PublicReport, PublicTestResult, ReportBase, RunStatus, TestStatus

#: What each test status is called in prose.
STATUS_WORDS = {
    TestStatus.PASSED: "passed",
    TestStatus.FAILED: "failed",
    TestStatus.ERROR: "error",
    TestStatus.TIMEOUT: "timed out",
    TestStatus.SKIPPED: "skipped",
    TestStatus.NOT_RUN: "not run",
}

#: What a test with each status did, as a verb phrase.
STATUS_PHRASES = {
    TestStatus.PASSED: "passed",
    TestStatus.FAILED: "failed",
    TestStatus.ERROR: "ended with an error",
    TestStatus.TIMEOUT: "timed out",
    TestStatus.SKIPPED: "was skipped",
    TestStatus.NOT_RUN: "was not run",
}

#: What each run status is called in prose.
RUN_WORDS = {
    RunStatus.PASSED: "passed",
    RunStatus.FAILED: "failed",
    RunStatus.ERROR: "error",
    RunStatus.TIMEOUT: "timed out",
}

# Characters that must not reach a terminal, a log or an XML file as themselves: C0 controls
# other than tab and newline (ESC starts every terminal escape sequence, CR rewrites the line),
# DEL, C1 controls (U+009B is a one-character CSI), and the bidirectional overrides and
# isolates, which reorder how a line is displayed.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Code points no encoder accepts: lone surrogates and the two noncharacters XML refuses.
_UNENCODABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _visible(match: re.Match[str]) -> str:
    """A control character written out the way Python writes it (``\\x1b``, ``\\u202e``)."""
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str | None) -> str:
    """``text`` neutralised for every format: the one place submission text is made safe.

    Each control character becomes its escape written out (``\\x1b[2J`` shows as text and
    clears nothing; a lone CR cannot send the cursor back over a line), so no escape sequence,
    bell or line rewrite reaches a terminal; a CRLF line end is a newline. Characters no
    encoder accepts become U+FFFD.
    """
    text = (text or "").replace("\r\n", "\n")
    return _UNENCODABLE.sub("\ufffd", _CONTROL.sub(_visible, text))


@dataclass(frozen=True)
class Row:
    """One hidden test, with the name a renderer shows and its place in its category."""

    test: PublicTestResult
    label: str
    category_index: int
    index_in_category: int

    @property
    def passed(self) -> bool:
        """Whether the test passed."""
        return self.test.status is TestStatus.PASSED

    @property
    def status_word(self) -> str:
        """The test's status in prose."""
        return STATUS_WORDS[self.test.status]

    @property
    def hint(self) -> str:
        """What the test expects, when the exercise shows hints."""
        return clean(self.test.hint)

    @property
    def message(self) -> str:
        """What went wrong, when the exercise shows it; else the status in prose."""
        return clean(self.test.message) or ("" if self.passed else self.status_word)


def rows(report: PublicReport) -> Iterator[Row]:
    """The report's tests in order, each named even when the exercise hides names.

    A hidden name becomes ``<category> #<n>``, numbered within its category in suite order, so
    the label says nothing a candidate may not see.
    """
    order = {c.name: i for i, c in enumerate(report.categories, start=1)}
    seen: dict[str, int] = {}
    for test in report.tests:
        seen[test.category] = seen.get(test.category, 0) + 1
        number = seen[test.category]
        label = clean(test.name) if test.name else f"{test.category} #{number}"
        yield Row(
            test=test,
            label=label,
            category_index=order.get(test.category, len(order) + 1),
            index_in_category=number,
        )


def percent(report: PublicReport) -> float:
    """The score as a percentage of the maximum (0 when there is no maximum)."""
    return 100 * report.score / report.max_score if report.max_score else 0.0


def mode_label(report: ReportBase[Any]) -> str:
    """Where the submission ran, from what the report knows: ``isolated (docker)``, ``direct``,
    or ``isolated`` alone when the run ended before a sandbox was named."""
    return f"{report.mode} ({report.sandbox})" if report.sandbox else report.mode


def points(value: float) -> str:
    """A score as every format shows it: at most two decimals, without trailing zeros (``15``,
    ``6.25``, ``2.08``), like the total the report computes."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def started_utc(report: PublicReport, fmt: str = "%Y-%m-%dT%H:%M:%SZ") -> str:
    """When grading started, in UTC."""
    started = report.started_at
    if started.tzinfo is not None:
        started = started.astimezone(UTC)
    return started.strftime(fmt)


def tests_passed(report: PublicReport) -> int:
    """How many hidden tests passed."""
    return sum(t.status is TestStatus.PASSED for t in report.tests)


def headline(report: PublicReport) -> str:
    """``lru-cache: failed, 78.64/100 (78.6%)``."""
    return (
        f"{report.exercise}: {RUN_WORDS[report.status]}, "
        f"{points(report.score)}/{points(report.max_score)} ({percent(report):.1f}%)"
    )


def cap_output(text: str, limit: int, notice: str) -> str:
    """``text`` cut to at most ``limit`` characters, keeping its end behind ``notice``."""
    text = clean(text)
    if len(text) <= limit:
        return text
    keep = limit - len(notice) - 1
    return f"{notice}\n{text[-keep:]}" if keep > 0 else notice[:limit]
