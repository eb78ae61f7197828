"""Derive the candidate-facing report from the full one."""

from __future__ import annotations

from grader.exercise import Visibility
from grader.report import PublicReport, PublicTestResult, Report

#: What replaces a leaked canary wherever one turns up.
REDACTED = "[redacted]"


def _scrub(text: str, canary: str) -> str:
    """Remove the suite's canary, a last line of defence against leaking hidden-test content."""
    return text.replace(canary, REDACTED) if canary else text


def to_public(report: Report, visibility: Visibility, canary: str = "") -> PublicReport:
    """The public view of ``report`` at ``visibility``; never includes grader-only detail."""
    show_names = visibility in (Visibility.NAMES, Visibility.HINTS)
    show_hints = visibility is Visibility.HINTS
    tests = [
        PublicTestResult(
            name=_scrub(t.name, canary) if show_names else None,
            category=t.category,
            points=t.points,
            max_points=t.max_points,
            status=t.status,
            message=_scrub(t.message, canary) if show_hints else None,
            hint=_scrub(t.hint, canary) if show_hints else None,
        )
        for t in report.tests
    ]
    return PublicReport(
        grader_version=report.grader_version,
        exercise=report.exercise,
        status=report.status,
        score=report.score,
        max_score=report.max_score,
        message=_scrub(report.message, canary),
        mode=report.mode,
        sandbox=report.sandbox,
        suite_hash=report.suite_hash,
        started_at=report.started_at,
        duration=report.duration,
        visibility=visibility.value,
        categories=report.categories,
        tests=tests,
        output=_scrub(report.output, canary) if show_hints else "",
    )
