"""Gradescope's autograder ``results.json``.

Per Gradescope's autograder specification: top-level ``score`` (overrides the sum of the tests),
``execution_time`` (seconds), ``output`` with its ``output_format``, ``visibility`` and
``stdout_visibility`` (``hidden``, ``after_due_date``, ``after_published`` or ``visible``),
``extra_data``, and ``tests``, each with ``score``, ``max_score``, ``status`` (``passed`` or
``failed``), ``name``, ``number``, ``output``, ``tags`` and ``visibility``.

The report is already the candidate's view, so every test is ``visible``; the exercise's own
visibility level decides what the names and outputs say. Gradescope has no top-level maximum
(the assignment sets it), so ``extra_data`` records it with the exercise's identity.
"""

from __future__ import annotations

import json
from typing import Any

from grader.formats.common import Row, clean, headline, points, rows, tests_passed
from grader.report import PublicReport

#: Gradescope's visibility values, least visible first.
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def _score(value: float) -> float:
    """A score as Gradescope stores it."""
    return round(value, 4)


def _test_output(row: Row) -> str:
    """What the candidate reads under a test."""
    if row.passed:
        return row.hint
    lines = [f"Expected: {row.hint}"] if row.hint else []
    lines.append(f"Got: {row.message}")
    return "\n".join(lines)


def _overall(report: PublicReport) -> str:
    """The text shown above the tests."""
    lines = [
        headline(report),
        f"{tests_passed(report)} of {len(report.tests)} hidden tests passed.",
    ]
    if report.message:
        lines += ["", clean(report.message)]
    lines += ["", "Points by category:"]
    lines += [
        f"  {c.name}: {points(c.score)}/{points(c.max_score)} ({c.passed}/{c.total} tests)"
        for c in report.categories
    ]
    if report.output.strip():
        lines += ["", "Your code's output (last part):", clean(report.output)]
    return "\n".join(lines)


def render(report: PublicReport) -> str:
    """The report as a Gradescope ``results.json``."""
    tests: list[dict[str, Any]] = []
    for row in rows(report):
        entry: dict[str, Any] = {
            "name": row.label,
            "name_format": "text",
            "number": f"{row.category_index}.{row.index_in_category}",
            "score": _score(row.test.points),
            "max_score": _score(row.test.max_points),
            "status": "passed" if row.passed else "failed",
            "tags": [row.test.category],
            "visibility": "visible",
        }
        text = _test_output(row)
        if text:
            entry["output"] = text
            entry["output_format"] = "text"
        tests.append(entry)
    document = {
        "score": _score(report.score),
        "execution_time": round(report.duration, 3),
        "output": _overall(report),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "exercise": report.exercise,
            "status": report.status.value,
            "max_score": _score(report.max_score),
            "grader_version": report.grader_version,
            "schema_version": report.schema_version,
            "suite_hash": report.suite_hash,
        },
        "tests": tests,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
