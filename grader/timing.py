"""Per-test deadlines from the reference's timing profile.

``grader validate`` records how long each hidden test takes on the reference solution
(:func:`record`): the fastest of its runs (the least disturbed by a busy machine), per mode
(``direct`` or ``isolated``), into ``timing.json`` beside the exercise's ``exercise.toml``,
with a hash of the hidden suite.
Grading gives each test :data:`MULTIPLE` times its recorded time, at least :data:`FLOOR`
seconds and at most the exercise's ``test_timeout`` (:func:`deadlines`), counted as
:class:`~grader.budget.TestBudget` does so that a busy machine does not fail honest tests. A
submission that loops forever then loses about a second per test, not ``test_timeout``.
Without a profile, or with one recorded for another version of the suite, every test gets
``test_timeout``, as before.

In isolated mode the profile also keeps each test's slowest single call into the sandbox on
the reference, and each call of a test gets the same multiple of that (with the same floor):
a submission that hangs in the first call of a long test (a complexity test that fills a
large cache) then loses half a second, not the whole test's limit (:func:`call_deadlines`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.budget import FLOOR
from grader.exercise import Exercise

#: A test's deadline is this many times its time on the reference (complexity tests accept a
#: solution up to about 5 x the reference's cost, so this leaves as much again; a busy machine
#: does not eat into it, see :mod:`grader.budget`)...
MULTIPLE = 10.0
#: ...but never less than :data:`~grader.budget.FLOOR` seconds (kept with the budget rules,
#: which the harness child imports without this module's pydantic).
#: Where the profile lives, beside exercise.toml.
PROFILE_NAME = "timing.json"
MODES = ("direct", "isolated")


class TimingProfile(BaseModel):
    """Seconds each hidden test took on the reference, per mode, for one version of the suite."""

    model_config = ConfigDict(extra="forbid")
    suite_hash: str = Field(description="sha256 over the hidden suite's files (names + bytes).")
    multiple: float = MULTIPLE
    floor: float = FLOOR
    tests: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="mode -> test name -> fastest seconds on the reference"
    )
    calls: dict[str, float] = Field(
        default_factory=dict,
        description="test name -> the reference's slowest single call into its sandbox "
        "(isolated mode), the lowest over the recorded runs",
    )


def suite_hash(exercise: Exercise) -> str:
    """A hash of every file of the hidden suite (a changed test invalidates the profile)."""
    digest = hashlib.sha256()
    root = exercise.hidden_dir
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def profile_path(exercise: Exercise) -> Path:
    """Where ``exercise``'s timing profile is kept."""
    return exercise.hidden_dir.parent / PROFILE_NAME


def load_profile(exercise: Exercise) -> TimingProfile | None:
    """The exercise's profile if there is one for its current suite, else ``None``."""
    try:
        profile = TimingProfile.model_validate_json(profile_path(exercise).read_bytes())
    except (OSError, ValidationError):
        return None
    return profile if profile.suite_hash == suite_hash(exercise) else None


def deadlines(exercise: Exercise, names: Iterable[str], mode: str) -> dict[str, float]:
    """Each named test's deadline in seconds for a grading in ``mode``.

    Only times recorded in ``mode`` count: a test can take many times longer in isolated mode
    (each call crosses the bridge) than directly. A test with no time recorded in ``mode`` (or
    no valid profile at all) gets the exercise's ``test_timeout``.
    """
    ceiling = exercise.meta.limits.test_timeout
    profile = load_profile(exercise)
    times: Mapping[str, float] = profile.tests.get(mode, {}) if profile is not None else {}
    result = {}
    for name in names:
        seconds = times.get(name)
        if seconds is None or profile is None:
            result[name] = ceiling
        else:
            result[name] = min(ceiling, max(profile.floor, profile.multiple * seconds))
    return result


def call_deadlines(exercise: Exercise, test_deadlines: Mapping[str, float]) -> dict[str, float]:
    """Each test's limit on any one call into the sandbox (isolated mode), given each test's
    own deadline (:func:`deadlines` in isolated mode), for the tests where it is below that
    deadline; tests without a recorded call are left out."""
    profile = load_profile(exercise)
    if profile is None:
        return {}
    result = {}
    for name, test_limit in test_deadlines.items():
        seconds = profile.calls.get(name)
        if seconds is not None:
            limit = max(profile.floor, profile.multiple * seconds)
            if limit < test_limit:
                result[name] = limit
    return result


def _lowest(runs: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Each test's lowest figure over ``runs``, rounded, sorted by name."""
    lowest: dict[str, float] = {}
    for run in runs:
        for name, seconds in run.items():
            lowest[name] = min(lowest.get(name, seconds), round(seconds, 4))
    return dict(sorted(lowest.items()))


def record(
    exercise: Exercise,
    mode: str,
    runs: Iterable[Mapping[str, float]],
    calls: Iterable[Mapping[str, float]] = (),
) -> Path | None:
    """Store the fastest time of each test over ``runs`` (each: test name -> seconds) for
    ``mode``, keeping the other mode's times if the suite is unchanged, and in isolated mode
    the lowest slowest-call of each test over ``calls``. Returns the file written, or
    ``None`` when the exercise's directory is read-only (an installed package)."""
    fastest = _lowest(runs)
    if not fastest:
        return None
    profile = load_profile(exercise) or TimingProfile(suite_hash=suite_hash(exercise))
    profile.tests[mode] = fastest
    if mode == "isolated":
        profile.calls = {name: s for name, s in _lowest(calls).items() if s > 0}
    path = profile_path(exercise)
    try:
        path.write_text(json.dumps(profile.model_dump(), indent=2) + "\n", encoding="utf-8")
    except OSError:
        return None
    return path
