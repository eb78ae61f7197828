"""JUnit XML, the test-report format CI systems read (Jenkins, GitLab, GitHub reporters).

Valid against the Jenkins xUnit plugin's ``junit-10.xsd``: ``<testsuites>`` (attributes
``name``, ``tests``, ``failures``, ``errors``, ``time`` only) holding one ``<testsuite>`` per
exercise, one ``<testcase>`` per hidden test with its category as ``classname`` and its own
``time`` in seconds, and a ``<failure>``, ``<error>`` or ``<skipped>`` child when it did not
pass. Timeouts are errors of ``type="timeout"``. Times are plain decimals (``3.500``), the form
the schema's time pattern allows.
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
    TestStatus.NOT_RUN: "skipped",  # never started: the run's time limit came first
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


def _seconds(value: float) -> str:
    """A time as the schema's pattern allows: digits, a point, three decimals."""
    return f"{max(value, 0.0):.3f}"


def render(report: PublicReport) -> str:
    """The report as a JUnit XML document."""
    all_rows = list(rows(report))
    counts = {
        "tests": len(all_rows),
        "failures": sum(_CHILD.get(r.test.status) == "failure" for r in all_rows),
        "errors": sum(_CHILD.get(r.test.status) == "error" for r in all_rows),
        "skipped": sum(_CHILD.get(r.test.status) == "skipped" for r in all_rows),
    }
    totals = {key: str(value) for key, value in counts.items()}
    duration = _seconds(report.duration)
    # The schema gives <testsuites> no "skipped" attribute; the suite has it.
    outer = {key: value for key, value in totals.items() if key != "skipped"}
    root = ET.Element("testsuites", {"name": "hidden-grader", **outer, "time": duration})
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
                "time": _seconds(row.test.duration),
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
