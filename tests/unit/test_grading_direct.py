"""Grading in direct mode: scores, statuses, and every kind of bad submission as data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.bridge.subject_server import GC_YOUNG_THRESHOLD
from grader.exercise import Exercise
from grader.grading import grade
from grader.harness.supervisor import ChildRunner, DirectRunner
from grader.public import to_public
from grader.report import Report, RunStatus, TestStatus
from grader.submission import from_path

from ..golden import check_golden, normalise

WriteModule = Callable[..., Path]

STUB_CLASS = """
class Counter:
    def __init__(self, clock):
        self._clock = clock
        self._ticks = []

    def tick(self):
        self._ticks.append(self._clock())

    def ticks_since(self, t):
        return sum(1 for x in self._ticks if x >= t)
"""


def run(exercise: Exercise, path: Path) -> Report:
    """Grade ``path`` directly."""
    return grade(exercise, from_path(path, exercise.meta.module), DirectRunner())


def statuses(report: Report) -> dict[str, str]:
    """Each test's status by name."""
    return {t.name: t.status.value for t in report.tests}


def golden_public(name: str, exercise: Exercise, report: Report) -> None:
    """Check the public report against its golden file."""
    public = to_public(report, exercise.meta.visibility, exercise.meta.canary)
    check_golden(f"reports/{name}.json", json.dumps(normalise(public), indent=2) + "\n")


def test_reference_scores_full_marks(adder: Exercise) -> None:
    report = run(adder, adder.reference_path)
    assert report.status is RunStatus.PASSED
    assert (report.score, report.max_score) == (100, 100)
    assert report.mode == "direct"
    golden_public("passed", adder, report)


def test_failing_submission_scores_by_category(adder: Exercise, write_module: WriteModule) -> None:
    path = write_module("def add(a, b):\n    return 6 if a == 2 else a + b\n" + STUB_CLASS)
    report = run(adder, path)
    assert report.status is RunStatus.FAILED
    assert report.score == 80
    basics = next(c for c in report.categories if c.name == "basics")
    assert (basics.passed, basics.total, basics.score) == (2, 3, 40)
    failed = next(t for t in report.tests if t.name == "test_add_integers")
    assert failed.message == "add(…) returned 6"  # what it did, never the 5 expected
    assert failed.hint == "add returns the sum of two integers."
    assert "assert" in failed.detail
    golden_public("failed", adder, report)


def test_stub_fails_every_test_with_a_clear_message(adder: Exercise) -> None:
    report = run(adder, adder.stub_path)
    assert report.status is RunStatus.FAILED
    assert report.score == 0
    messages = {t.message for t in report.tests}
    assert messages == {"add(…) raised NotImplementedError: implement add",
                        "Counter(…) raised NotImplementedError: implement Counter"}
    golden_public("stub", adder, report)


def test_syntax_error_names_the_line(adder: Exercise, write_module: WriteModule) -> None:
    report = run(adder, write_module("def add(a, b):\n    return a +\n"))
    assert report.status is RunStatus.ERROR
    assert report.message == "syntax error in adder.py at line 2, column 15: invalid syntax"
    assert all(t.status is TestStatus.ERROR for t in report.tests)
    assert report.score == 0 and report.max_score == 100
    golden_public("syntax_error", adder, report)


@pytest.mark.parametrize(
    ("source", "name", "message"),
    [
        ("", "adder.py", "adder.py is empty"),
        ("   \n\n", "adder.py", "adder.py is empty"),
        ("def add(a, b): return a + b\n", "adding.py", "the submission must be named adder.py, not adding.py"),
    ],
)
def test_bad_files_are_errors(adder: Exercise, write_module: WriteModule, source: str,
                              name: str, message: str) -> None:
    report = run(adder, write_module(source, name))
    assert (report.status, report.message) == (RunStatus.ERROR, message)


def test_folder_without_the_module_lists_what_it_found(adder: Exercise, write_module: WriteModule) -> None:
    path = write_module("x = 1\n", "solution.py")
    report = run(adder, path.parent)
    assert report.status is RunStatus.ERROR
    assert report.message == f"no adder.py in {path.parent}; found solution.py"


def test_missing_path_is_an_error(adder: Exercise, tmp_path: Path) -> None:
    report = run(adder, tmp_path / "nowhere.py")
    assert report.message == f"no such file or folder: {tmp_path / 'nowhere.py'}"


def test_import_error_names_the_line(adder: Exercise, write_module: WriteModule) -> None:
    report = run(adder, write_module("import os\n\nraise RuntimeError('broken at import')\n"))
    assert report.status is RunStatus.ERROR
    assert report.message == "importing the submission failed (line 3): RuntimeError: broken at import"
    golden_public("import_error", adder, report)


def test_missing_dependency_is_an_import_error(adder: Exercise, write_module: WriteModule) -> None:
    report = run(adder, write_module("import numpy_that_does_not_exist\n"))
    assert report.message.startswith("importing the submission failed (line 1): ModuleNotFoundError")


def test_hanging_method_times_out_alone(adder: Exercise, write_module: WriteModule) -> None:
    source = ("import time\n\ndef add(a, b):\n    if a == -2:\n        time.sleep(60)\n"
              "    return a + b\n" + STUB_CLASS)
    report = run(adder, write_module(source))
    assert statuses(report)["test_add_negative"] == "timeout"
    assert next(t for t in report.tests if t.name == "test_add_negative").message == "timed out after 2 s"
    assert report.status is RunStatus.FAILED
    assert report.score == pytest.approx(80.0)
    golden_public("one_test_timeout", adder, report)


def test_exit_inside_a_method_fails_only_that_test(adder: Exercise, write_module: WriteModule) -> None:
    source = ("import os\n\ndef add(a, b):\n    if a == 'a':\n        os._exit(0)\n"
              "    return a + b\n" + STUB_CLASS)
    report = run(adder, write_module(source))
    assert statuses(report)["test_add_strings_concatenate"] == "error"
    died = next(t for t in report.tests if t.name == "test_add_strings_concatenate")
    assert died.message == "the test process died during this test (exit code 0)"
    assert sum(t.status is TestStatus.PASSED for t in report.tests) == 4


def test_hang_at_import_is_a_timeout(adder: Exercise, write_module: WriteModule) -> None:
    report = run(adder, write_module("while True:\n    pass\n"))
    assert report.status is RunStatus.TIMEOUT
    assert report.message == "importing the submission took longer than 5 s"
    assert all(t.status is TestStatus.TIMEOUT for t in report.tests)


def test_exit_at_import_is_an_error(adder: Exercise, write_module: WriteModule) -> None:
    report = run(adder, write_module("import os\nos._exit(3)\n"))
    assert report.status is RunStatus.ERROR
    assert report.message == "the submission stopped the process while importing (exit code 3)"


def test_output_is_captured(adder: Exercise, write_module: WriteModule) -> None:
    source = "print('loaded')\n\ndef add(a, b):\n    print('adding', a, b)\n    return a + b\n" + STUB_CLASS
    report = run(adder, write_module(source))
    assert report.status is RunStatus.PASSED
    assert "loaded" in report.output and "adding 2 3" in report.output


def test_a_run_asked_to_stop_at_the_first_failure_runs_nothing_after_it(
    adder: Exercise, write_module: WriteModule
) -> None:
    """What a mutation run uses: the first test that does not pass (in suite order) ends the
    run, and every test after it is not run, not blamed."""
    path = write_module("def add(a, b):\n    return 6 if a == 2 else a + b\n" + STUB_CLASS)
    runner = ChildRunner(stop_at_first_failure=True)
    report = grade(adder, from_path(path, adder.meta.module), runner)
    names = [t.name for t in report.tests]
    first = names.index("test_add_integers")
    assert [t.status for t in report.tests[:first]] == [TestStatus.PASSED] * first
    assert report.tests[first].status is TestStatus.FAILED
    later = report.tests[first + 1 :]
    assert later and all(t.status is TestStatus.NOT_RUN for t in later)
    assert all(t.message == "not run: the run stopped at the first failure" for t in later)
    assert report.status is RunStatus.FAILED
    # The same submission graded whole: the later tests ran (and passed).
    whole = run(adder, path)
    assert all(t.status is TestStatus.PASSED for t in whole.tests[first + 1 :])


def test_the_suite_runs_with_fewer_garbage_collections(
    adder: Exercise, write_module: WriteModule
) -> None:
    """The harness child collects its young generation every ``GC_YOUNG_THRESHOLD``
    allocations and has frozen what collection loaded before the first test runs (full
    collections over pytest's objects cost a child 50-230 ms per grading). A submission that
    adds correctly only under that policy scores full marks only with it."""
    path = write_module(
        "import gc\n"
        "def add(a, b):\n"
        f"    tuned = gc.get_threshold()[0] == {GC_YOUNG_THRESHOLD} and gc.get_freeze_count() > 0\n"
        "    return a + b if tuned else a - b\n" + STUB_CLASS
    )
    report = run(adder, path)
    assert report.score == 100, [t.message for t in report.tests if t.status != "passed"]
