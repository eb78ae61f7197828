"""What a failed hidden test says the submission did (grader/failure_notes.py), in both modes.

The ``notes`` fixture exercise has one hidden test per kind of failure; the buggy solution below
fails each in one known way. Every message must name the operation and the value or exception
the submission produced, and none may show an expected value, a ``match`` pattern or test source.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.catalogue import Catalogue
from grader.exercise import Exercise, Visibility
from grader.grading import grade
from grader.harness.supervisor import ChildRunner, DirectRunner
from grader.public import to_public
from grader.report import Report
from grader.submission import from_path

from ..conftest import FIXTURES

BUGGY = '''\
def double(x):
    return 2 * x + 1


def halve(x):
    if x < 0:
        raise ValueError("bad input")
    return x / 2


def is_ready():
    return 0


def listing():
    return [1]


class Box:
    size = 7

    def __contains__(self, item):
        return True

    def put(self, key):
        raise KeyError(key)
'''

EXPECTED_MESSAGES = {
    "test_returned_value": "double(…) returned 43",
    "test_attribute": "`size` was 7",
    "test_membership": "`… in …` returned True",
    "test_truthiness": "is_ready() returned a false value",
    "test_no_exception": "double(…) raised no exception",
    "test_wrong_message": "halve(…) raised ValueError: bad input",
    "test_both_sides_computed": "assertion failed",  # both sides computed: nothing more is said
    "test_helper_names_stay_hidden": "the value checked was 3",
}
# What the tests expect, and the pattern they match: never in a message.
SECRETS = ("42", "4242", "negative", "ghost", "def test_", "assert ", "doubled_through")


@pytest.fixture(scope="module")
def notes() -> Exercise:
    return Catalogue(FIXTURES / "feedback").get("notes")


def graded(notes: Exercise, tmp_path: Path, runner: object) -> Report:
    (tmp_path / "notes.py").write_text(BUGGY)
    return grade(notes, from_path(tmp_path, "notes.py"), runner)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["direct", "process"])
def test_failures_say_what_the_submission_did(notes: Exercise, tmp_path: Path, mode: str) -> None:
    runner = DirectRunner() if mode == "direct" else ChildRunner(backend="process")
    report = graded(notes, tmp_path, runner)
    messages = {t.name: t.message for t in report.tests}
    assert {name: messages[name] for name in EXPECTED_MESSAGES} == EXPECTED_MESSAGES
    # The exception's own text depends on the mode (the bridge rebuilds it); its operation does not.
    assert messages["test_exception_from_a_call"].startswith("put(…) raised KeyError: ")
    for message in messages.values():
        for secret in SECRETS:
            assert secret not in message, (secret, message)


def test_the_reference_passes_every_notes_test(notes: Exercise) -> None:
    report = grade(notes, from_path(notes.reference_path, "notes.py"), DirectRunner())
    assert report.passed, [(t.name, t.message) for t in report.tests if t.message]


def test_hint_is_the_first_paragraph_joined(notes: Exercise, tmp_path: Path) -> None:
    report = graded(notes, tmp_path, DirectRunner())
    hints = {t.name: t.hint for t in report.tests}
    assert hints["test_membership"] == (
        "Membership that should not hold is reported as what `in` returned.")
    assert hints["test_returned_value"] == (
        "A wrong result is named with the value the call returned.")  # not the 2nd paragraph


@pytest.mark.parametrize("visibility", [Visibility.SCORES, Visibility.NAMES])
def test_what_the_submission_did_shows_only_at_hints(notes: Exercise, tmp_path: Path,
                                                     visibility: Visibility) -> None:
    report = graded(notes, tmp_path, DirectRunner())
    public = to_public(report, visibility, notes.meta.canary)
    assert all(t.message is None and t.hint is None for t in public.tests)
    shown = to_public(report, Visibility.HINTS, notes.meta.canary)
    assert {t.name: t.message for t in shown.tests}["test_attribute"] == "`size` was 7"
