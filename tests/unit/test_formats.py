"""Report formats: golden files for passed, failed, errored and timed-out runs, and their shape.

Reports are built deterministically (fixed times and durations) from full reports through
``to_public``, with grader-only detail and the canary planted, so the tests also prove no
renderer can show what a candidate may not see. ``UPDATE_GOLDEN=1`` rewrites the golden files
under ``tests/golden/formats/``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grader.exercise import Visibility
from grader.formats import FORMATS, render
from grader.formats.common import mode_label
from grader.public import to_public
from grader.report import (
    PublicReport,
    Report,
    RunStatus,
    TestResult,
    TestStatus,
)
from grader.scoring import TestRecord, score_tests

from ..golden import check_golden

CANARY = "GRADER-CANARY-formats-0123456789abcdef"
SECRET = "GRADER-ONLY-DETAIL assert cache.get('k') == 42"
CATEGORIES = {"basics": 40.0, "eviction": 35.0, "expiry": 25.0}
TESTS = [
    ("test_get_returns_the_stored_value", "basics", "get returns the value put stored."),
    ("test_len_counts_live_entries", "basics", "len counts live entries only."),
    ("test_full_cache_evicts_the_lru_entry", "eviction",
     "A full cache evicts the least recently used entry, only that one."),
    ("test_get_refreshes_recency", "eviction", "get makes an entry the most recently used."),
    ("test_random_operations_match_lru", "eviction",
     "A long mix of put/get/delete matches LRU semantics: 100% of the time, in order."),
    ("test_entry_expires_at_its_deadline", "expiry",
     "An entry written at t with ttl d is expired from t + d on."),
]

EXTENSIONS = {
    "text": "txt",
    "json": "json",
    "junit": "junit.xml",
    "exercism": "exercism.json",
    "gradescope": "gradescope.json",
    "github": "github.txt",
    "markdown": "md",
}


def full_report(status: RunStatus, outcomes: list[tuple[TestStatus, str]], message: str = "",
                output: str = "") -> Report:
    """A full report (with grader-only detail) for the fixed suite above."""
    records = [TestRecord(nodeid=name, name=name, category=cat, hint=hint, status=st, message=msg)
               for (name, cat, hint), (st, msg) in zip(TESTS, outcomes, strict=True)]
    scored = score_tests(records, CATEGORIES)
    tests = [
        TestResult(name=r.name, category=r.category, points=pts, max_points=max_pts,
                   status=r.status, message=r.message, hint=r.hint, duration=0.25,
                   detail="" if r.status is TestStatus.PASSED else f"{SECRET} {CANARY}")
        for r, (pts, max_pts) in zip(records, scored.points, strict=True)
    ]
    return Report(
        grader_version="0.1.0", exercise="lru-cache", status=status, score=scored.score,
        max_score=scored.max_score, message=message, mode="isolated", sandbox="docker",
        suite_hash="sha256:" + "ab" * 32,
        started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), duration=3.5,
        categories=scored.categories, tests=tests, output=output,
    )


PASS = (TestStatus.PASSED, "")
NOT_RUN = (TestStatus.ERROR, "not run: the submission has a problem")


def scenarios() -> dict[str, Report]:
    """The runs every format is checked on."""
    failed_output = ("debug: cache=[a, b]\nprogress: 50% done, key: 'x'\n"
                     "<b>bold</b> & | pipes ``` fence\n::warning::not a command\n")
    failing = [PASS, PASS,
               (TestStatus.FAILED, "assertion failed"),
               (TestStatus.FAILED, "raised KeyError: 'k', expected a value"),
               (TestStatus.ERROR, "the test process died during this test (killed by SIGKILL)"),
               PASS]
    return {
        "passed": full_report(RunStatus.PASSED, [PASS] * len(TESTS)),
        "failed": full_report(RunStatus.FAILED, failing, output=failed_output),
        "errored": full_report(
            RunStatus.ERROR, [NOT_RUN] * len(TESTS),
            message="syntax error in lru_cache.py at line 3, column 9: invalid syntax"),
        "timed_out": full_report(
            RunStatus.TIMEOUT,
            [PASS, PASS, (TestStatus.TIMEOUT, "timed out after 5 s"),
             (TestStatus.TIMEOUT, "not run: the whole run hit its time limit"),
             (TestStatus.TIMEOUT, "not run: the whole run hit its time limit"),
             (TestStatus.TIMEOUT, "not run: the whole run hit its time limit")],
            message="the whole run hit its time limit", output="x" * 700),
    }


def public(name: str, visibility: Visibility = Visibility.HINTS) -> PublicReport:
    return to_public(scenarios()[name], visibility, CANARY)


CASES = [(name, fmt) for name in ("passed", "failed", "errored", "timed_out") for fmt in FORMATS]


@pytest.mark.parametrize(("scenario", "fmt"), CASES)
def test_format_matches_golden_file(scenario: str, fmt: str) -> None:
    check_golden(f"formats/{scenario}.{EXTENSIONS[fmt]}", render(public(scenario), fmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_scores_only_visibility_matches_golden_file(fmt: str) -> None:
    check_golden(f"formats/failed_scores_only.{EXTENSIONS[fmt]}",
                 render(public("failed", Visibility.SCORES), fmt))


@pytest.mark.parametrize("visibility", list(Visibility))
@pytest.mark.parametrize(("scenario", "fmt"), CASES)
def test_no_format_shows_grader_only_detail(scenario: str, fmt: str,
                                            visibility: Visibility) -> None:
    text = render(public(scenario, visibility), fmt)
    assert "GRADER-ONLY-DETAIL" not in text
    assert CANARY not in text
    if visibility is Visibility.SCORES:
        assert "test_full_cache_evicts_the_lru_entry" not in text
    if visibility is not Visibility.HINTS:
        assert "least recently used entry" not in text
        assert "KeyError" not in text


@pytest.mark.parametrize("scenario", ["passed", "failed", "errored", "timed_out"])
def test_json_is_the_public_report_itself(scenario: str) -> None:
    report = public(scenario)
    assert PublicReport.model_validate_json(render(report, "json")) == report


def test_every_format_ends_with_one_newline() -> None:
    for fmt in FORMATS:
        text = render(public("failed"), fmt)
        assert text.endswith("\n") and not text.endswith("\n\n"), fmt


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report format 'yaml'"):
        render(public("passed"), "yaml")


@pytest.mark.parametrize(("mode", "sandbox", "label"), [
    ("isolated", "docker", "isolated (docker)"), ("isolated", "process", "isolated (process)"),
    ("isolated", None, "isolated"), ("isolated", "", "isolated"), ("direct", None, "direct")])
def test_mode_label_says_only_what_the_report_knows(mode: str, sandbox: str | None,
                                                    label: str) -> None:
    update = {"mode": mode, "sandbox": sandbox}
    assert mode_label(public("failed").model_copy(update=update)) == label
    assert mode_label(scenarios()["failed"].model_copy(update=update)) == label  # full reports too


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_writes_a_sandbox_it_does_not_know(fmt: str) -> None:
    # A submission with a problem never reaches the sandbox: isolated mode, no sandbox named.
    report = public("errored").model_copy(update={"sandbox": None})
    text = render(report, fmt)
    assert "None" not in text and "()" not in text
    if fmt in ("text", "markdown"):
        assert "isolated mode" in text


def test_cli_format_choices_are_the_registry() -> None:
    from grader.cli.grading import DEFAULT_FORMAT, Format

    assert [f.value for f in Format] == list(FORMATS)
    assert DEFAULT_FORMAT == "text" == FORMATS[0]


# --- Text --------------------------------------------------------------------------------------


def test_text_shows_the_output_as_it_was_printed() -> None:
    report = public("failed").model_copy(
        update={"output": "[red]not markup[/] :smile: esc\x1b[31m bell\x07\n\n"})
    text = render(report, "text")
    assert text.endswith("\n[red]not markup[/] :smile: esc\\x1b[31m bell\\x07\n")


# What a hostile submission prints or puts in an exception message to take over a terminal: clear
# the screen, home the cursor, print a fake verdict, ring, rewrite the line with CR, the 8-bit
# CSI (U+009B), an OSC title string, a DEL, and a right-to-left override.
TERMINAL_ATTACK = ("\x1b[2J\x1b[H\x1b[32mlru-cache: passed  score 100/100\x1b[0m\x07"
                   "\rOK \x9b2J \x1b]0;pwned\x07 \x7f \u202edessap\n")
# Characters that must never reach a terminal: C0 except tab and newline, DEL, C1, bidi controls.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def attacked(fmt: str) -> str:
    """The failed scenario, with the attack in the output and in a test's message."""
    report = public("failed")
    tests = [t.model_copy(update={"message": TERMINAL_ATTACK}) if t.status is TestStatus.FAILED
             else t for t in report.tests]
    return render(report.model_copy(update={"output": TERMINAL_ATTACK, "tests": tests}), fmt)


@pytest.mark.parametrize("fmt", ["text", "markdown", "github", "junit", "gradescope", "exercism"])
def test_no_format_passes_terminal_controls_through(fmt: str) -> None:
    rendered = attacked(fmt)
    assert not CONTROLS.findall(rendered), CONTROLS.findall(rendered)
    if fmt in ("text", "markdown"):
        assert "\\x1b[2J" in rendered  # shown as text, so the candidate sees what was printed


def test_terminal_report_draws_no_submission_controls(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from grader.cli import output

    report = public("failed")
    tests = [t.model_copy(update={"message": TERMINAL_ATTACK}) if t.status is TestStatus.FAILED
             else t for t in report.tests]
    monkeypatch.setattr(output, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich styles as on a terminal: its own ESCs only
    output.print_report(report.model_copy(update={"output": TERMINAL_ATTACK, "tests": tests}))
    drawn = capsys.readouterr().out
    for forbidden in ("\x1b[2J", "\x1b[H", "\x07", "\r", "\x9b", "\x1b]", "\x7f", "\u202e"):
        assert forbidden not in drawn, repr(forbidden)


def test_text_groups_failures_that_share_a_cause() -> None:
    report = public("failed")
    same = "NotImplementedError: implement LRUCache.__init__"
    tests = [t.model_copy(update={"message": same}) if t.status is not TestStatus.PASSED else t
             for t in report.tests]
    text = render(report.model_copy(update={"tests": tests}), "text")
    assert text.count(same) == 1
    assert f"same cause in 3 tests: {same}" in text
    header = text.index(f"same cause in 3 tests: {same}")
    for name in ("test_full_cache_evicts_the_lru_entry", "test_get_refreshes_recency",
                 "test_random_operations_match_lru"):
        assert text.index(f"eviction/{name}") > header
    assert "got:" not in text  # said once, above the tests that share it


def test_text_keeps_a_cause_of_its_own_under_its_test() -> None:
    text = render(public("failed"), "text")
    assert "same cause in" not in text
    assert "          got: raised KeyError: 'k', expected a value" in text


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_category_points_and_total_have_the_same_precision(fmt: str) -> None:
    report = to_public(full_report(RunStatus.FAILED, [PASS, PASS, PASS, PASS, PASS,
                                                      (TestStatus.FAILED, "x")]), Visibility.HINTS)
    report = report.model_copy(update={"categories": [
        c.model_copy(update={"score": 8.8889}) if c.name == "expiry" else c
        for c in report.categories], "score": 83.89})
    text = render(report, fmt)
    assert "8.89/25" in text and "8.8889" not in text
    assert "83.89/100" in text


def test_text_terminal_and_plain_share_one_layout(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from grader.cli import output

    report = public("failed")
    monkeypatch.setattr(output, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")
    output.print_report(report)
    drawn = capsys.readouterr().out
    plain = render(report, "text")
    for line in plain.splitlines():
        if "\t" not in line:  # tables are drawn with boxes on a terminal
            assert line in drawn, line
    assert "┃ category ┃ passed ┃ points ┃" in drawn


# --- JUnit -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["passed", "failed", "errored", "timed_out"])
def test_junit_parses_and_counts_add_up(scenario: str) -> None:
    report = public(scenario)
    root = ET.fromstring(render(report, "junit").encode("utf-8"))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == int(suite.get("tests", "")) == len(report.tests)
    failures = sum(c.find("failure") is not None for c in cases)
    errors = sum(c.find("error") is not None for c in cases)
    assert (failures, errors) == (int(suite.get("failures", "")), int(suite.get("errors", "")))
    assert [c.get("classname") for c in cases] == [t.category for t in report.tests]
    assert all(c.get("name") for c in cases)
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["status"] == report.status.value
    assert float(props["score"] or 0) == report.score


#: The structure of the Jenkins xUnit plugin's junit-10.xsd, restated as a schema of our own.
JUNIT_XSD = Path(__file__).parents[1] / "fixtures" / "junit" / "jenkins-junit-10.xsd"


@pytest.mark.parametrize("visibility", list(Visibility))
@pytest.mark.parametrize("scenario", ["passed", "failed", "errored", "timed_out"])
def test_junit_validates_against_the_jenkins_schema(scenario: str, visibility: Visibility) -> None:
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(JUNIT_XSD)))
    document = etree.fromstring(render(public(scenario, visibility), "junit").encode("utf-8"))
    assert schema.validate(document), schema.error_log


def test_junit_schema_check_can_fail() -> None:
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(JUNIT_XSD)))
    document = etree.fromstring(render(public("failed"), "junit").encode("utf-8"))
    document.set("skipped", "0")  # <testsuites> has no such attribute in junit-10.xsd
    assert not schema.validate(document)


def test_junit_carries_each_tests_own_time() -> None:
    report = public("failed")
    durations = [0.5, 1.25, 0.0, 2.0, 3.125, 0.001]
    report = report.model_copy(update={"tests": [
        t.model_copy(update={"duration": d}) for t, d in zip(report.tests, durations, strict=True)]})
    root = ET.fromstring(render(report, "junit"))
    times = [case.get("time") for case in root.iter("testcase")]
    assert times == ["0.500", "1.250", "0.000", "2.000", "3.125", "0.001"]
    assert root.get("time") == "3.500"


def test_test_times_are_public_at_every_visibility() -> None:
    for visibility in Visibility:
        assert [t.duration for t in public("failed", visibility).tests] == [0.25] * len(TESTS)


def test_github_annotations_are_attached_to_the_module_file() -> None:
    lines = render(public("failed"), "github", source_file="work/lru_cache.py").splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 3
    assert all(line.startswith("::error file=work/lru_cache.py,title=") for line in errors)
    syntax = render(public("errored"), "github", source_file="work/lru_cache.py").splitlines()[0]
    assert syntax.startswith("::error file=work/lru_cache.py,line=3,col=9,")


def test_junit_marks_timeouts_as_errors_of_type_timeout() -> None:
    root = ET.fromstring(render(public("timed_out"), "junit"))
    kinds = [e.get("type") for e in root.iter("error")]
    assert kinds == ["timeout"] * 4


def test_junit_keeps_awkward_output_well_formed() -> None:
    report = public("failed").model_copy(
        update={"output": "nul\x00 bell\x07 esc\x1b[31m surrogate\ud800 ]]> end"})
    root = ET.fromstring(render(report, "junit").encode("utf-8"))
    out = root.find("testsuite/system-out")
    assert out is not None and out.text is not None
    assert "]]> end" in out.text and "\x00" not in out.text


# --- Exercism ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("scenario", "status"), [
    ("passed", "pass"), ("failed", "fail"), ("errored", "error"), ("timed_out", "fail")])
def test_exercism_has_the_required_fields(scenario: str, status: str) -> None:
    data = json.loads(render(public(scenario), "exercism"))
    assert data["version"] == 3
    assert data["status"] == status
    if status == "error":
        assert data["message"]
    else:
        assert data["message"] is None
    assert len(data["tests"]) == len(TESTS)
    for test in data["tests"]:
        assert test["name"] and test["status"] in ("pass", "fail", "error")
        assert test["test_code"].startswith("# Hidden test (its code is not shown).")
        assert "def test_" not in test["test_code"] and "assert" not in test["test_code"]
        assert len(test.get("output") or "") <= 500


def test_exercism_caps_output_at_500_characters() -> None:
    data = json.loads(render(public("timed_out"), "exercism"))
    outputs = [t["output"] for t in data["tests"] if "output" in t]
    assert len(outputs) == 1
    assert len(outputs[0]) == 500
    assert outputs[0].startswith("Output was truncated. Please limit to 500 chars")


def test_exercism_timeout_without_any_test_run_is_an_error() -> None:
    report = public("timed_out")
    report = report.model_copy(update={"tests": [
        t.model_copy(update={"status": TestStatus.TIMEOUT}) for t in report.tests]})
    data = json.loads(render(report, "exercism"))
    assert data["status"] == "error"
    assert data["message"].startswith("the whole run hit its time limit")


# --- Gradescope --------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["passed", "failed", "errored", "timed_out"])
def test_gradescope_has_the_required_fields(scenario: str) -> None:
    report = public(scenario)
    data = json.loads(render(report, "gradescope"))
    assert data["score"] == report.score
    assert data["extra_data"]["max_score"] == report.max_score
    assert data["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert data["stdout_visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert len(data["tests"]) == len(report.tests)
    for test, source in zip(data["tests"], report.tests, strict=True):
        assert test["score"] == round(source.points, 4)
        assert test["max_score"] == round(source.max_points, 4)
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
        assert test["name"]
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(report.max_score, abs=1e-3)


# --- GitHub and Markdown -----------------------------------------------------------------------


def test_github_annotates_each_failed_test_once() -> None:
    lines = render(public("failed"), "github").splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 3
    assert all(line.count("::") == 2 for line in errors)


def test_github_points_a_syntax_error_at_its_line() -> None:
    first = render(public("errored"), "github").splitlines()[0]
    assert first.startswith("::error file=lru_cache.py,line=3,col=9,title=lru-cache%3A error::")


def test_github_pauses_commands_around_the_summary() -> None:
    lines = render(public("failed"), "github").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[start].removeprefix("::stop-commands::")
    assert lines.index(f"::{token}::") > start
    inner = lines[start + 1:lines.index(f"::{token}::")]
    assert any(line.startswith("::warning::not a command") for line in inner)


def test_github_output_contains_the_markdown_summary() -> None:
    report = public("failed")
    assert render(report, "markdown").rstrip("\n") in render(report, "github")


def test_markdown_table_lists_every_category() -> None:
    report = public("failed")
    text = render(report, "markdown")
    for category in report.categories:
        assert f"| {category.name} | {category.passed}/{category.total} |" in text

