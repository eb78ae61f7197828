"""The harness child's events: each survives the trip through the results file, a line that is
no event is a clear fault of the harness, and the parent gives each event its meaning."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import get_args

import pytest

from grader.errors import GraderError, HarnessFault, SandboxUnavailable
from grader.harness import events
from grader.harness.events import HarnessEvent, MalformedEvent, decode, encode
from grader.harness.launch import read_events
from grader.harness.progress import ChildProgress
from grader.harness.runner import SuiteOutcome
from grader.report import TestStatus
from grader.scoring import TestRecord

EVERY_EVENT: list[HarnessEvent] = [
    events.SuiteCollected(()),
    events.SuiteCollected(
        (
            events.CollectedTest("t.py::test_a", "test_a", "basics", "a hint"),
            events.CollectedTest("t.py::test_b", "test_b", "edge", ""),
        )
    ),
    events.TestStarted("t.py::test_a"),
    events.TestEnded("t.py::test_a", "passed"),
    events.TestEnded("t.py::test_a", "failed", "assertion failed", "assert 1 == 2", 0.25, "out\n"),
    events.SandboxSelected("docker"),
    events.WarmWanted('{"wall_timeout": 60.0}'),
    events.ReferenceReleased(clean=True),
    events.SandboxFailed("no daemon"),
    events.SubmissionImported(),
    events.SubmissionImported(sandbox="process"),
    events.SubmissionImportRaised("RuntimeError", "broken at import", 3),
    events.SubmissionImportRaised("ImportError", "no module", None),
    events.SubmissionStartFailed("timeout", "importing took too long"),
    events.SubjectOutput("printed \u2028 text\n\x00"),
]


@pytest.mark.parametrize("event", EVERY_EVENT, ids=lambda e: type(e).__name__)
def test_every_event_survives_a_round_trip(event: HarnessEvent) -> None:
    line = encode(event)
    assert "\n" not in line and line.isascii()
    assert json.loads(line)["event"] == event.tag
    assert decode(line) == event


def test_every_event_class_has_a_sample_and_a_tag_of_its_own() -> None:
    classes = get_args(HarnessEvent)
    assert {type(e) for e in EVERY_EVENT} == set(classes)
    assert len({cls.tag for cls in classes}) == len(classes)


def test_test_statuses_are_the_reports() -> None:
    # "not_run" is the parent's alone: a child reports only tests it started.
    assert {s.value for s in TestStatus} - {"not_run"} == events.TEST_STATUSES


def test_a_whole_number_duration_reads_as_a_float() -> None:
    event = decode('{"event": "end", "nodeid": "n", "status": "passed", "duration": 2}')
    assert isinstance(event, events.TestEnded)
    assert event.duration == 2.0 and isinstance(event.duration, float)


MALFORMED = {
    "not JSON": ("{nope", "not JSON"),
    "half a line": ('{"event": "start", "nodeid"', "not JSON"),
    "not an object": ("[1, 2]", "not a JSON object"),
    "no event": ('{"nodeid": "n"}', "unknown event None"),
    "unknown event": ('{"event": "finished", "exit_code": 0}', "unknown event 'finished'"),
    "event not a string": ('{"event": 3}', "unknown event 3"),
    "missing field": ('{"event": "start"}', "TestStarted lacks field 'nodeid'"),
    "wrong type": ('{"event": "start", "nodeid": 3}', "TestStarted.nodeid is not str: 3"),
    "unknown field": ('{"event": "start", "nodeid": "n", "x": 1}', "unknown fields ['x']"),
    "bool for a line": (
        '{"event": "import_raised", "type": "E", "message": "m", "line": true}',
        "SubmissionImportRaised.line is not int | None: True",
    ),
    "text for a duration": (
        '{"event": "end", "nodeid": "n", "status": "passed", "duration": "1"}',
        "TestEnded.duration is not float",
    ),
    "unknown status": ('{"event": "end", "nodeid": "n", "status": "won"}', "unknown test status"),
    "tests not a list": ('{"event": "collected", "tests": {}}', "exactly a list of tests"),
    "no tests": ('{"event": "collected"}', "exactly a list of tests"),
    "a test not an object": ('{"event": "collected", "tests": [1]}', "CollectedTest fields"),
    "a test lacks a field": (
        '{"event": "collected", "tests": [{"nodeid": "n", "name": "n", "category": "c"}]}',
        "CollectedTest lacks field 'hint'",
    ),
}


@pytest.mark.parametrize(("line", "reason"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_line_is_a_clear_harness_fault(line: str, reason: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        decode(line)
    assert isinstance(caught.value, HarnessFault) and isinstance(caught.value, GraderError)
    message = str(caught.value)
    assert message.startswith("the harness child wrote a malformed event: ")
    assert reason in message
    assert repr(line) in message


def test_a_long_malformed_line_is_quoted_in_part() -> None:
    with pytest.raises(MalformedEvent) as caught:
        decode("x" * 10_000)
    assert len(str(caught.value)) < 400


def test_reading_takes_only_complete_lines(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    assert read_events(results, 0) == ([], 0)
    started = encode(events.TestStarted("n")) + "\n"
    results.write_text(started + '{"event": "end", "nod')
    assert read_events(results, 0) == ([events.TestStarted("n")], len(started))
    with results.open("a") as stream:
        stream.write('eid": "n", "status": "passed"}\n\n')
    found, offset = read_events(results, len(started))
    assert found == [events.TestEnded("n", "passed")]
    assert offset == results.stat().st_size


def test_reading_a_malformed_line_raises_a_harness_fault(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text(encode(events.TestStarted("n")) + "\n" + "garbage\n")
    with pytest.raises(HarnessFault, match="not JSON"):
        read_events(results, 0)


# -- what the parent makes of each event ------------------------------------------------------


def progress_of(*nodeids: str) -> ChildProgress:
    """A child's progress over pending tests with these node ids."""
    records = [TestRecord(nodeid=n, name=n, category="basics", hint="") for n in nodeids]
    return ChildProgress({r.nodeid: r for r in records}, SuiteOutcome(records=records))


def test_imported_marks_the_submission_ready_in_its_sandbox() -> None:
    progress = progress_of("a")
    progress.take(events.SandboxSelected("process"))
    assert (progress.imported, progress.outcome.sandbox) == (False, "process")
    progress.take(events.SubmissionImported(sandbox="process"))
    assert (progress.imported, progress.outcome.sandbox) == (True, "process")
    direct = progress_of("a")
    direct.take(events.SubmissionImported())
    assert (direct.imported, direct.outcome.sandbox) == (True, None)


def test_a_failed_sandbox_is_the_graders_fault() -> None:
    with pytest.raises(SandboxUnavailable, match="no daemon"):
        progress_of("a").take(events.SandboxFailed("no daemon"))


@pytest.mark.parametrize(("status", "timed_out"), [("timeout", True), ("error", False)])
def test_a_failed_start_is_the_runs_error(status: str, timed_out: bool) -> None:
    progress = progress_of("a")
    progress.take(events.SubmissionStartFailed(status, "the submission died while importing"))
    assert progress.outcome.error == "the submission died while importing"
    assert progress.outcome.timed_out is timed_out
    assert not progress.imported


@pytest.mark.parametrize(
    ("line", "where"), [(3, " (line 3)"), (None, ""), (0, "")], ids=["line", "none", "zero"]
)
def test_an_import_that_raised_names_the_line(line: int | None, where: str) -> None:
    progress = progress_of("a")
    progress.take(events.SubmissionImportRaised("RuntimeError", "broken", line))
    assert progress.outcome.error == f"importing the submission failed{where}: RuntimeError: broken"
    assert not progress.outcome.timed_out


def test_output_accumulates() -> None:
    progress = progress_of("a")
    progress.take(events.SubjectOutput("one\n"))
    progress.take(events.SubjectOutput("two\n"))
    assert progress.outcome.output == "one\ntwo\n"


def test_start_and_end_settle_a_test() -> None:
    progress = progress_of("a", "b")
    record = progress.pending["a"]
    before = time.monotonic()
    progress.take(events.TestStarted("a"))
    assert progress.current == "a" and progress.started >= before
    progress.take(events.TestEnded("a", "failed", "assertion failed", "detail", 0.5, "printed"))
    assert progress.current is None
    assert list(progress.pending) == ["b"]
    assert (record.status, record.message, record.detail, record.duration) == (
        TestStatus.FAILED,
        "assertion failed",
        "detail",
        0.5,
    )
    assert progress.outcome.output == "printed"


def test_the_end_of_a_settled_test_and_the_collection_change_nothing() -> None:
    progress = progress_of("a")
    progress.take(events.TestStarted("a"))
    progress.take(events.TestEnded("gone", "passed"))
    progress.take(events.SuiteCollected((events.CollectedTest("a", "a", "basics", ""),)))
    assert progress.current == "a" and list(progress.pending) == ["a"]
    assert progress.outcome == SuiteOutcome(records=progress.outcome.records)
