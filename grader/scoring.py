"""Turn per-test outcomes into points: each category's points split evenly among its tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grader.report import CategoryScore, TestStatus


@dataclass
class TestRecord:
    """One hidden test's outcome as a runner saw it, before scoring."""

    __test__ = False  # not a pytest test class, despite its name

    nodeid: str
    name: str
    category: str
    hint: str = ""
    status: TestStatus = TestStatus.ERROR
    message: str = ""
    detail: str = ""
    duration: float = 0.0
    slowest_call: float = 0.0
    #: The test asks for the reference solution (known from collection).
    uses_reference: bool = False


@dataclass(frozen=True)
class Scored:
    """A scored run: per-test points, category totals, and the overall score."""

    points: list[tuple[float, float]]
    categories: list[CategoryScore]
    score: float
    max_score: float


def score_tests(records: Sequence[TestRecord], categories: dict[str, float]) -> Scored:
    """Score ``records``; a category with no tests contributes nothing to the maximum."""
    counts = {name: 0 for name in categories}
    for record in records:
        counts[record.category] = counts.get(record.category, 0) + 1
    per_test = {
        name: (categories.get(name, 0.0) / counts[name]) if counts[name] else 0.0 for name in counts
    }
    points = []
    passed_by = dict.fromkeys(counts, 0)
    for record in records:
        ok = record.status is TestStatus.PASSED
        passed_by[record.category] += ok
        points.append((per_test[record.category] if ok else 0.0, per_test[record.category]))
    summary = []
    for name, count in counts.items():
        if not count:
            continue
        # Computed per category, not summed per test, so a full pass is exactly the maximum.
        summary.append(
            CategoryScore(
                name=name,
                score=round(categories.get(name, 0.0) * passed_by[name] / count, 4),
                max_score=categories.get(name, 0.0),
                passed=passed_by[name],
                total=count,
            )
        )
    return Scored(
        points=[(round(p, 4), round(m, 4)) for p, m in points],
        categories=summary,
        score=round(sum(c.score for c in summary), 2),
        max_score=round(sum(c.max_score for c in summary), 2),
    )
