"""JUnit XML, the test-report format CI systems read (Jenkins, GitLab, GitHub reporters).

Follows the de-facto Ant/Jenkins schema: ``<testsuites>`` holding one ``<testsuite>`` per
exercise, one ``<testcase>`` per hidden test with its category as ``classname``, and a
``<failure>``, ``<error>`` or ``<skipped>`` child when it did not pass. Timeouts are errors of
``type="timeout"``. Per-test times are grader-only, so test cases carry ``time="0"`` and the
suite carries the run's duration.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.formats.common import Row, clean, mode_label, percent, points, rows, started_utc
from grader.report import PublicReport, TestStatus

_CHILD = {
    TestStatus.FAILED: "failure",
    TestStatus.ERROR: "error",
    TestStatus.TIMEOUT: "error",
    TestStatus.SKIPPED: "skipped",
}


def _details(row: Row, report: PublicReport) -> str:
    """The body of a failure or error element: expectation, outcome, and the run's problem."""
    lines = []
    if row.hint:
        lines.append(f"expected: {row.hint}")
    lines.append(f"got: {row.message}")
    if report.message:
        lines.append(f"run: {clean(report.message)}")
    return "\n".join(lines)


def render(report: PublicReport) -> str:
    """The report as a JUnit XML document."""
    all_rows = list(rows(report))
    counts = {
        "tests": len(all_rows),
        "failures": sum(r.test.status is TestStatus.FAILED for r in all_rows),
        "errors": sum(r.test.status in (TestStatus.ERROR, TestStatus.TIMEOUT) for r in all_rows),
        "skipped": sum(r.test.status is TestStatus.SKIPPED for r in all_rows),
    }
    totals = {key: str(value) for key, value in counts.items()}
    duration = f"{report.duration:.3f}"
    root = ET.Element("testsuites", {"name": "hidden-grader", **totals, "time": duration})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": report.exercise,
            **totals,
            "time": duration,
            "timestamp": started_utc(report, "%Y-%m-%dT%H:%M:%S"),
            "hostname": "localhost",
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("status", report.status.value),
        ("score", points(report.score)),
        ("max_score", points(report.max_score)),
        ("percent", f"{percent(report):.1f}"),
        ("message", clean(report.message)),
        ("visibility", report.visibility),
        ("mode", mode_label(report)),
        ("grader_version", report.grader_version),
        ("schema_version", report.schema_version),
        ("suite_hash", report.suite_hash),
    ):
        if value:
            ET.SubElement(properties, "property", {"name": name, "value": value})
    for row in all_rows:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "name": row.label,
                "classname": row.test.category,
                "time": "0",
            },
        )
        child = _CHILD.get(row.test.status)
        if child == "skipped":
            ET.SubElement(case, "skipped", {"message": row.message})
        elif child:
            element = ET.SubElement(
                case,
                child,
                {
                    "message": row.message,
                    "type": row.test.status.value,
                },
            )
            element.text = _details(row, report)
    if report.output:
        ET.SubElement(suite, "system-out").text = clean(report.output)
    if report.message:
        ET.SubElement(suite, "system-err").text = clean(report.message)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
