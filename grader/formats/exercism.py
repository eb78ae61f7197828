"""Exercism's test-runner ``results.json``, version 3.

Per the Exercism test-runner interface: top-level ``version``, ``status`` (``pass``, ``fail``,
or ``error`` when the tests could not run, e.g. a syntax error) and ``message`` (required for
``error``, else null); per test ``name``, ``status`` (``pass``/``fail``/``error``),
``message``, ``output`` (limited to 500 characters) and ``test_code``. Exercism shows
``test_code`` above each result as the test's code; a hidden test's code never leaves the
grader, so ``test_code`` says that it is hidden and, when the exercise shows hints, what the
test checks. ``task_id`` is optional and omitted. Tests keep the hidden suite's order.

:func:`grader.cli.exercism_runner` runs this format as an Exercism test runner
(``grader exercism-runner SLUG INPUT_DIR OUTPUT_DIR``).
"""

from __future__ import annotations

import json
from typing import Any

from grader.formats.common import Row, cap_output, clean, rows
from grader.report import PublicReport, RunStatus, TestStatus

#: Exercism caps a test's ``output`` at this many characters.
OUTPUT_LIMIT = 500
#: Exercism's suggested notice for cut output.
TRUNCATED = "Output was truncated. Please limit to 500 chars"

_TEST_STATUS = {
    TestStatus.PASSED: "pass",
    TestStatus.FAILED: "fail",
    TestStatus.ERROR: "error",
    TestStatus.TIMEOUT: "error",
    TestStatus.SKIPPED: "fail",
    TestStatus.NOT_RUN: "error",
}


def _run_status(report: PublicReport) -> str:
    """``error`` only when no test ran (the spec's 'tests did not run correctly')."""
    if report.status is RunStatus.PASSED:
        return "pass"
    if report.status is RunStatus.ERROR:
        return "error"
    ran = any(t.status in (TestStatus.PASSED, TestStatus.FAILED) for t in report.tests)
    return "fail" if ran or report.status is RunStatus.FAILED else "error"


def _message(row: Row) -> str | None:
    """What the student sees for a test that did not pass."""
    if row.passed:
        return None
    if row.hint:
        return f"Expected: {row.hint}\nGot: {row.message}"
    return row.message[:1].upper() + row.message[1:]


def hidden_test_code(row: Row) -> str:
    """What Exercism shows as the test's code: never the hidden code itself."""
    if row.hint:
        return f"# Hidden test (its code is not shown). It checks: {row.hint}"
    return "# Hidden test (its code is not shown)."


def _output(text: str) -> str:
    """Output cut to Exercism's limit, keeping its end."""
    return cap_output(text, OUTPUT_LIMIT, TRUNCATED)


def render(report: PublicReport) -> str:
    """The report as an Exercism ``results.json`` (version 3)."""
    status = _run_status(report)
    message = None
    if status == "error":
        message = clean(report.message) or "The tests could not be run."
        if report.output.strip():
            message += "\n\nYour code's output (last part):\n" + _output(report.output)
    tests: list[dict[str, Any]] = []
    output_given = status == "error"
    for row in rows(report):
        entry: dict[str, Any] = {
            "name": row.label,
            "status": _TEST_STATUS[row.test.status],
            "message": _message(row),
            "test_code": hidden_test_code(row),
        }
        # The report has the output of the whole run, not per test: it goes with the first
        # test that did not pass, the one Exercism shows first.
        if not row.passed and not output_given and report.output.strip():
            entry["output"] = _output(report.output)
            output_given = True
        tests.append(entry)
    document = {"version": 3, "status": status, "message": message, "tests": tests}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
