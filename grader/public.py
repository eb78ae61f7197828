"""Derive the candidate-facing report from the full one, by an explicit allow-list.

:data:`PUBLIC_ALLOW_LIST` names every field of a full :class:`~grader.report.Report` (and of each
of its tests) a candidate may see, and the visibility level from which it shows; below that
level the field is blank in the public report. Nothing else reaches a candidate: a field the
full report gains stays with the grader until it is listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from pydantic import BaseModel

from grader.exercise import Visibility
from grader.report import PublicReport, PublicTestResult, Report

#: What replaces a leaked canary wherever one turns up.
REDACTED = "[redacted]"

#: The visibility levels, each showing what the ones before it show, and more.
_LEVELS = (Visibility.SCORES, Visibility.NAMES, Visibility.HINTS)


@dataclass(frozen=True)
class AllowList:
    """The fields a candidate may see, each with the least visibility level that shows it."""

    report: Mapping[str, Visibility]
    """Fields of the report as a whole; its ``tests`` are shown one by one as ``test`` allows."""
    test: Mapping[str, Visibility]
    """Fields of each hidden test."""


#: Everything of a full report a candidate may see. ``schema_version`` and ``visibility``
#: describe the public report itself, so it sets them; a test's ``detail`` is grader-only and
#: absent. A test's ``duration`` (the grader's clock, as CI test reporters show it) says how long
#: it took, nothing of what it checks, so it shows at every level.
PUBLIC_ALLOW_LIST: Final = AllowList(
    report=MappingProxyType(
        {
            "grader_version": Visibility.SCORES,
            "exercise": Visibility.SCORES,
            "status": Visibility.SCORES,
            "score": Visibility.SCORES,
            "max_score": Visibility.SCORES,
            "message": Visibility.SCORES,
            "mode": Visibility.SCORES,
            "sandbox": Visibility.SCORES,
            "suite_hash": Visibility.SCORES,
            "started_at": Visibility.SCORES,
            "duration": Visibility.SCORES,
            "categories": Visibility.SCORES,
            "output": Visibility.HINTS,
        }
    ),
    test=MappingProxyType(
        {
            "name": Visibility.NAMES,
            "category": Visibility.SCORES,
            "points": Visibility.SCORES,
            "max_points": Visibility.SCORES,
            "status": Visibility.SCORES,
            "message": Visibility.HINTS,
            "hint": Visibility.HINTS,
            "duration": Visibility.SCORES,
        }
    ),
)


def _scrub(value: Any, canary: str) -> Any:
    """Remove the suite's canary from text, a last line of defence against leaking hidden-test
    content; other values are returned as they are."""
    if isinstance(value, str) and canary:
        return value.replace(canary, REDACTED)
    return value


def _blank(model: type[BaseModel], field: str) -> Any:
    """What ``model`` holds in ``field`` when the candidate may not see it: its default, or
    ``None`` for a field without one."""
    info = model.model_fields[field]
    return None if info.is_required() else info.get_default()


def _visible(
    source: BaseModel,
    allowed: Mapping[str, Visibility],
    model: type[BaseModel],
    visibility: Visibility,
    canary: str,
) -> dict[str, Any]:
    """The ``allowed`` fields of ``source`` for ``model`` at ``visibility``, scrubbed."""
    level = _LEVELS.index(visibility)
    return {
        field: _scrub(getattr(source, field), canary)
        if level >= _LEVELS.index(needed)
        else _blank(model, field)
        for field, needed in allowed.items()
    }


def to_public(report: Report, visibility: Visibility, canary: str = "") -> PublicReport:
    """The public view of ``report`` at ``visibility``: only what :data:`PUBLIC_ALLOW_LIST`
    lets through; never grader-only detail."""
    allowed = PUBLIC_ALLOW_LIST
    tests = [
        PublicTestResult(**_visible(test, allowed.test, PublicTestResult, visibility, canary))
        for test in report.tests
    ]
    return PublicReport(
        **_visible(report, allowed.report, PublicReport, visibility, canary),
        visibility=visibility.value,
        tests=tests,
    )
