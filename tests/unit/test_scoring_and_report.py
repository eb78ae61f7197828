"""Scoring arithmetic, the public view's redactions, and the published schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grader.exercise import Visibility
from grader.public import PUBLIC_ALLOW_LIST, REDACTED, to_public
from grader.report import (
    SCHEMA_VERSION,
    PublicReport,
    PublicTestResult,
    Report,
    ReportBase,
    RunStatus,
    TestResult,
    TestStatus,
    report_schema,
)
from grader.scoring import TestRecord, score_tests

DOCS = Path(__file__).resolve().parents[2] / "docs"
CANARY = "GRADER-CANARY-test-0000000000000000"


def record(name: str, category: str, status: TestStatus) -> TestRecord:
    return TestRecord(nodeid=name, name=name, category=category, status=status)


def test_category_points_are_split_evenly() -> None:
    records = [record("a", "x", TestStatus.PASSED), record("b", "x", TestStatus.FAILED),
               record("c", "x", TestStatus.PASSED), record("d", "y", TestStatus.TIMEOUT)]
    scored = score_tests(records, {"x": 30, "y": 70})
    assert scored.points == [(10.0, 10.0), (0.0, 10.0), (10.0, 10.0), (0.0, 70.0)]
    assert (scored.score, scored.max_score) == (20.0, 100.0)
    assert [(c.name, c.passed, c.total, c.score) for c in scored.categories] == [
        ("x", 2, 3, 20.0), ("y", 0, 1, 0.0)]


def test_full_pass_is_exactly_the_maximum_with_awkward_fractions() -> None:
    records = [record(str(i), "x", TestStatus.PASSED) for i in range(7)]
    records += [record(f"y{i}", "y", TestStatus.PASSED) for i in range(3)]
    scored = score_tests(records, {"x": 33.3, "y": 66.7})
    assert scored.score == scored.max_score == 100.0


def test_empty_category_adds_nothing_to_the_maximum() -> None:
    scored = score_tests([record("a", "x", TestStatus.PASSED)], {"x": 10, "unused": 90})
    assert (scored.score, scored.max_score) == (10.0, 10.0)


def sample_report() -> Report:
    return Report(
        grader_version="0.0.0", exercise="ex", status=RunStatus.FAILED, score=50, max_score=100,
        mode="isolated", sandbox="docker", suite_hash="sha256:x",
        started_at=datetime(2026, 1, 1, tzinfo=UTC), duration=1.0, categories=[],
        output=f"printed {CANARY}",
        tests=[
            TestResult(name="test_a", category="x", points=50, max_points=50,
                       status=TestStatus.PASSED),
            TestResult(name=f"test_b_{CANARY}", category="x", points=0, max_points=50,
                       status=TestStatus.FAILED, message="assertion failed",
                       hint="b works", detail="assert 1 == 2  # expected value"),
        ],
    )


def test_public_view_never_carries_detail() -> None:
    for visibility in Visibility:
        dumped = to_public(sample_report(), visibility, CANARY).model_dump_json()
        assert "expected value" not in dumped
        assert "detail" not in dumped


def test_visibility_levels() -> None:
    scores = to_public(sample_report(), Visibility.SCORES, CANARY)
    assert [t.name for t in scores.tests] == [None, None]
    assert scores.tests[1].hint is None and scores.output == ""
    names = to_public(sample_report(), Visibility.NAMES, CANARY)
    assert names.tests[0].name == "test_a" and names.tests[1].message is None
    hints = to_public(sample_report(), Visibility.HINTS, CANARY)
    assert (hints.tests[1].hint, hints.tests[1].message) == ("b works", "assertion failed")


def test_canary_is_redacted_everywhere() -> None:
    public = to_public(sample_report(), Visibility.HINTS, CANARY)
    dumped = public.model_dump_json()
    assert CANARY not in dumped
    assert public.tests[1].name == f"test_b_{REDACTED}"
    assert public.output == f"printed {REDACTED}"


RUN_FACTS = ["schema_version", "grader_version", "exercise", "status", "score", "max_score",
             "message", "mode", "sandbox", "suite_hash", "started_at", "duration"]
RESULTS = ["categories", "tests", "output"]


def test_both_reports_share_their_fields_in_the_published_order() -> None:
    assert issubclass(Report, ReportBase) and issubclass(PublicReport, ReportBase)
    assert list(Report.model_fields) == RUN_FACTS + RESULTS
    assert list(PublicReport.model_fields) == [*RUN_FACTS, "visibility", *RESULTS]
    shared = set(RUN_FACTS + RESULTS) - {"tests"}
    for name in shared:
        full, public = Report.model_fields[name], PublicReport.model_fields[name]
        assert (full.annotation, full.default) == (public.annotation, public.default), name


def test_allow_list_names_every_public_field_and_nothing_grader_only() -> None:
    assert set(PUBLIC_ALLOW_LIST.report) | {"schema_version", "visibility", "tests"} == set(
        PublicReport.model_fields)
    assert set(PUBLIC_ALLOW_LIST.test) == set(PublicTestResult.model_fields)
    assert set(PUBLIC_ALLOW_LIST.report) <= set(Report.model_fields)
    assert set(PUBLIC_ALLOW_LIST.test) <= set(TestResult.model_fields)
    assert {"detail"}.isdisjoint(PUBLIC_ALLOW_LIST.test)  # a test's duration is public (JUnit)


def test_public_view_blanks_what_the_level_hides() -> None:
    levels = {v: to_public(sample_report(), v, CANARY) for v in Visibility}
    for visibility, public in levels.items():
        assert public.visibility == visibility.value
        assert (public.score, public.mode, public.sandbox) == (50, "isolated", "docker")
        for test in public.tests:
            shown = test.model_dump(exclude_none=True)
            assert {"category", "points", "max_points", "status"} <= set(shown)
    assert all(t.name is None and t.message is None and t.hint is None
               for t in levels[Visibility.SCORES].tests)
    assert [t.name for t in levels[Visibility.NAMES].tests] == ["test_a", f"test_b_{REDACTED}"]
    assert levels[Visibility.NAMES].output == "" and levels[Visibility.HINTS].output


@pytest.mark.parametrize("public", [False, True])
def test_published_schema_is_current(public: bool) -> None:
    name = f"{'public-' if public else ''}report.schema.json"
    published = (DOCS / "schema" / name).read_text()
    assert published == json.dumps(report_schema(public), indent=2) + "\n", (
        f"regenerate docs/schema/{name} with `grader schema`")


def test_report_is_versioned_and_validates_against_its_model() -> None:
    report = sample_report()
    assert report.schema_version == SCHEMA_VERSION
    assert Report.model_validate_json(report.model_dump_json()) == report
