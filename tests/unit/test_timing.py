"""Per-test deadlines from the reference's timing profile, and tests the run never reached."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader import timing
from grader.budget import CPU_FLOOR
from grader.catalogue import Catalogue
from grader.exercise import Exercise
from grader.formats import text
from grader.grading import grade, suite_tests
from grader.harness.supervisor import ChildRunner, DirectRunner
from grader.public import to_public
from grader.report import TestStatus
from grader.submission import from_path
from grader.validation import validate_exercise

from ..conftest import FIXTURES

NAMES = [
    "test_add_integers",
    "test_add_negative",
    "test_add_strings_concatenate",
    "test_ticks_since_counts_boundary",
    "test_ticks_since_later_is_zero",
]


@pytest.fixture
def adder_copy(tmp_path: Path) -> Exercise:
    """A private copy of the fixture exercise, so profiles and limits can be changed."""
    shutil.copytree(FIXTURES / "exercises" / "adder", tmp_path / "exercises" / "adder")
    return Catalogue(tmp_path / "exercises").get("adder")


def set_limits(exercise: Exercise, **limits: float) -> Exercise:
    """The exercise re-read after its [limits] table was rewritten."""
    toml = exercise.hidden_dir.parent / "exercise.toml"
    head = toml.read_text().split("[limits]")[0]
    tail = toml.read_text().split("[categories]")[1]
    lines = "".join(f"{key} = {value}\n" for key, value in limits.items())
    toml.write_text(f"{head}[limits]\n{lines}\n[categories]{tail}")
    return Catalogue(exercise.hidden_dir.parents[1]).get("adder")


def hanging_adder(tmp_path: Path, hang_in: str = "add") -> Path:
    """An adder whose ``hang_in`` method loops forever (the rest is correct)."""
    loop = "    while True:\n        pass\n"
    source = (
        "def add(a, b):\n" + (loop if hang_in == "add" else "") + "    return a + b\n\n"
        "class Counter:\n"
        "    def __init__(self, clock):\n        self._clock, self._ticks = clock, []\n"
        "    def tick(self):\n        self._ticks.append(self._clock())\n"
        "    def ticks_since(self, t):\n"
        + (loop.replace("    ", "        ", 1) if hang_in == "ticks_since" else "")
        + "        return sum(1 for x in self._ticks if x >= t)\n"
    )
    path = tmp_path / "sub" / "adder.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(source)
    return path


def test_deadlines_are_a_multiple_of_the_reference_time_between_floor_and_ceiling(
    adder_copy: Exercise,
) -> None:
    timing.record(adder_copy, "direct", [{NAMES[0]: 0.001, NAMES[1]: 0.12}, {NAMES[1]: 0.07}])
    got = timing.deadlines(adder_copy, NAMES[:3], "direct")
    assert got[NAMES[0]] == timing.FLOOR  # 10 ms would be too tight: the floor
    # The least disturbed run, times the multiple (between the floor and the ceiling).
    assert timing.FLOOR < timing.MULTIPLE * 0.07 < timing.MULTIPLE * 0.12 < 2.0
    assert got[NAMES[1]] == pytest.approx(timing.MULTIPLE * 0.07)
    assert got[NAMES[2]] == 2.0  # never recorded: the exercise's test_timeout
    # No isolated times yet: isolated grading does not borrow the direct ones (a call across
    # the bridge costs far more), it gets test_timeout.
    assert timing.deadlines(adder_copy, NAMES[:1], "isolated") == {NAMES[0]: 2.0}


def test_a_changed_suite_makes_the_profile_stale(adder_copy: Exercise) -> None:
    timing.record(adder_copy, "direct", [{NAMES[0]: 0.001}])
    assert timing.load_profile(adder_copy) is not None
    test_file = next(adder_copy.hidden_dir.glob("test_*.py"))
    test_file.write_text(test_file.read_text() + "\n# changed\n")
    assert timing.load_profile(adder_copy) is None
    assert timing.deadlines(adder_copy, NAMES[:1], "direct") == {NAMES[0]: 2.0}


def test_recording_one_mode_keeps_the_other(adder_copy: Exercise) -> None:
    timing.record(adder_copy, "direct", [{NAMES[0]: 0.001}])
    timing.record(adder_copy, "isolated", [{NAMES[0]: 0.2}])
    profile = timing.load_profile(adder_copy)
    assert profile is not None
    assert profile.tests == {"direct": {NAMES[0]: 0.001}, "isolated": {NAMES[0]: 0.2}}


def test_calls_get_a_deadline_of_their_own_from_the_reference_slowest_call(
    adder_copy: Exercise,
) -> None:
    exercise = set_limits(adder_copy, test_timeout=5.0, run_timeout=30.0)
    runs = [{NAMES[0]: 0.3, NAMES[1]: 0.3, NAMES[2]: 0.01}]
    calls = [{NAMES[0]: 0.002, NAMES[1]: 0.2, NAMES[2]: 0.001}, {NAMES[0]: 0.001}]
    timing.record(exercise, "isolated", runs, calls)
    timing.record(exercise, "direct", [{NAMES[0]: 0.1}], [{NAMES[0]: 9.0}])  # not kept
    profile = timing.load_profile(exercise)
    assert profile is not None
    assert profile.calls == {NAMES[0]: 0.001, NAMES[1]: 0.2, NAMES[2]: 0.001}
    # A call gets the multiple of the reference's slowest, with the floor; only where that
    # is below the test's own deadline (3 s, 3 s and the 0.5 s floor here).
    own = timing.deadlines(exercise, NAMES[:4], "isolated")
    assert timing.call_deadlines(exercise, own) == {NAMES[0]: timing.FLOOR, NAMES[1]: 2.0}


def test_a_hang_in_one_call_costs_the_call_deadline_not_the_test_deadline(
    adder_copy: Exercise, tmp_path: Path
) -> None:
    exercise = set_limits(adder_copy, test_timeout=5.0, run_timeout=60.0)
    slow = dict.fromkeys(NAMES, 0.4)  # each test may take 4 s...
    timing.record(exercise, "isolated", [slow], [dict.fromkeys(NAMES, 0.001)])  # ...a call 0.5
    submission = from_path(hanging_adder(tmp_path), "adder.py")
    report = grade(exercise, submission, ChildRunner(backend="process"))
    hung = [t for t in report.tests if t.status is TestStatus.TIMEOUT]
    assert {t.name for t in hung} == set(NAMES[:3]), report.tests
    # Spinning in one call is caught by that call's limit, not the test's 4 s.
    assert all(t.message.startswith("timed out after 0.5 s") for t in hung), hung
    assert all(t.message.split(" (")[0].endswith("in one call") for t in hung), hung
    passed = [t for t in report.tests if t.status is TestStatus.PASSED]
    assert len(passed) == 2 and all(0 < t.slowest_call < 0.5 for t in passed), passed


def test_a_hang_costs_the_profiled_deadline_not_the_test_timeout(
    adder_copy: Exercise, tmp_path: Path
) -> None:
    timing.record(adder_copy, "direct", [dict.fromkeys(NAMES, 0.001)])
    report = grade(adder_copy, from_path(hanging_adder(tmp_path), "adder.py"), DirectRunner())
    hung = [t for t in report.tests if t.status is TestStatus.TIMEOUT]
    assert {t.name for t in hung} == set(NAMES[:3])  # the add tests, and only those
    # A busy loop: caught by the floor's CPU limit (on a busy machine the message adds how
    # long the clock ran).
    spun = f"timed out after {CPU_FLOOR:g} s of CPU time"
    assert all(t.message.startswith(spun) for t in hung), hung
    assert all(t.status is TestStatus.PASSED for t in report.tests if t not in hung)


def test_tests_the_whole_run_never_reached_are_not_run(
    adder_copy: Exercise, tmp_path: Path
) -> None:
    exercise = set_limits(adder_copy, test_timeout=1.0, run_timeout=3.0)
    source = (
        hanging_adder(tmp_path)
        .read_text()
        .replace("self._clock, self._ticks = clock, []", "while True:\n            pass")
    )
    (tmp_path / "sub" / "adder.py").write_text(source)  # every test hangs now
    report = grade(exercise, from_path(tmp_path / "sub" / "adder.py", "adder.py"), DirectRunner())
    statuses = [t.status for t in report.tests]  # in suite order
    ran = statuses.index(TestStatus.NOT_RUN)
    assert ran >= 1 and statuses[:ran] == [TestStatus.TIMEOUT] * ran
    assert statuses[ran:] == [TestStatus.NOT_RUN] * (len(statuses) - ran)
    # The test running when the limit came is a timeout of the run, not of its own.
    assert report.tests[ran - 1].message == "timed out: the whole run hit its time limit"
    assert all(t.message == "not run: the whole run hit its time limit" for t in report.tests[ran:])
    rendered = text.render(to_public(report, exercise.meta.visibility, exercise.meta.canary))
    assert "not run" in rendered


def test_validate_records_the_reference_profile(adder_copy: Exercise) -> None:
    result = validate_exercise(
        adder_copy, DirectRunner, runs=2, min_tests=1, min_mutants=0, record_timing=True
    )
    assert all(check.ok for check in result.checks), [c for c in result.checks if not c.ok]
    profile = timing.load_profile(adder_copy)
    assert profile is not None and set(profile.tests["direct"]) == set(NAMES)
    assert all(seconds > 0 for seconds in profile.tests["direct"].values())


@pytest.mark.parametrize("slug", Catalogue().slugs())
def test_every_shipped_exercise_has_a_current_timing_profile(slug: str) -> None:
    exercise = Catalogue().get(slug)
    profile = timing.load_profile(exercise)
    fix = f"run: grader validate {slug} && grader validate {slug} --sandbox docker"
    assert profile is not None, f"{slug}: timing.json missing or recorded for another suite; {fix}"
    names = {test.name for test in suite_tests(exercise)}
    for mode in timing.MODES:
        assert set(profile.tests.get(mode, {})) == names, f"{slug}: no {mode} times; {fix}"
    assert set(profile.calls) == names, f"{slug}: no slowest calls; {fix}"
