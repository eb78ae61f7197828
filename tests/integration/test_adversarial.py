"""Hostile submissions graded in isolated mode: each scores what it deserves, the grader
finishes within its limits, nothing is left running, and the suite's canary never leaks.

Every defence of the bridge and the sandbox has a case here that fails if it is removed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.errors import SandboxUnavailable
from grader.exercise import Exercise
from grader.grading import grade
from grader.harness.supervisor import ChildRunner
from grader.public import to_public
from grader.report import Report, RunStatus, TestStatus
from grader.submission import from_text

from ..conftest import FIXTURES
from .conftest import backend_or_skip

HOSTILE = FIXTURES / "hostile"
DETACHED_TOKEN = "hostile-detached-7f3a9c"


@dataclass(frozen=True)
class Expect:
    """What a hostile submission deserves."""

    score: float
    status: RunStatus
    #: Another status that is just as right (how a bomb ends depends on scheduling).
    or_status: RunStatus | None = None


CASES = {
    "import_loop": Expect(0, RunStatus.TIMEOUT),
    # Ends by the memory limit (error) or by the import limit (timeout), whichever comes first.
    "fork_bomb": Expect(0, RunStatus.ERROR, or_status=RunStatus.TIMEOUT),
    "memory_bomb": Expect(40, RunStatus.FAILED),
    "flood": Expect(0, RunStatus.ERROR),
    "disk_fill": Expect(100, RunStatus.PASSED),
    "exit_at_import": Expect(0, RunStatus.ERROR),
    "exit_in_method": Expect(80, RunStatus.FAILED),
    "kill_everything": Expect(0, RunStatus.ERROR),
    # Forging frames on the channel, or patching the subject server, breaks the protocol: error.
    "fake_results": Expect(0, RunStatus.ERROR),
    "patch_pytest": Expect(0, RunStatus.ERROR),
    "liars": Expect(0, RunStatus.FAILED),
    "snoop": Expect(100, RunStatus.PASSED),
    "traps": Expect(100, RunStatus.PASSED),
    "detached": Expect(100, RunStatus.PASSED),
    "hang_one_method": Expect(80, RunStatus.FAILED),
}


def processes_with(token: str) -> list[int]:
    """Pids whose command line mentions ``token``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if token.encode() in cmdline:
                found.append(int(entry))
    return found


def grade_hostile(adder: Exercise, name: str, backend: str) -> tuple[Report, float]:
    """Grade one hostile submission in isolated mode; the report and the wall time."""
    source = (HOSTILE / f"{name}.py").read_bytes()
    start = time.monotonic()
    report = grade(adder, from_text(source, "adder.py"), ChildRunner(backend=backend))
    return report, time.monotonic() - start


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_submission(adder: Exercise, backend: str, name: str) -> None:
    expect = CASES[name]
    report, elapsed = grade_hostile(adder, name, backend)
    assert report.score == expect.score, report.model_dump_json(indent=1, include={"message", "tests"})
    assert report.status in (expect.status, expect.or_status), report.message
    assert report.mode == "isolated" and report.sandbox == backend
    # Within its limits: the whole-run timeout plus start-up and a restart or two.
    assert elapsed < adder.meta.limits.run_timeout + 30
    public = to_public(report, adder.meta.visibility, adder.meta.canary).model_dump_json()
    assert adder.meta.canary not in public
    assert adder.meta.canary not in report.output
    assert processes_with(DETACHED_TOKEN) == []


def test_snoop_finds_nothing_inside_the_sandbox(adder: Exercise, backend: str) -> None:
    report, _ = grade_hostile(adder, "snoop", backend)
    assert "SNOOP DONE" in report.output
    assert "hits=0" in report.output, report.output[-2000:]


def test_hanging_method_is_a_timeout_of_that_test_only(adder: Exercise, backend: str) -> None:
    report, _ = grade_hostile(adder, "hang_one_method", backend)
    status = {t.name: t.status for t in report.tests}
    assert status.pop("test_add_negative") is TestStatus.TIMEOUT
    assert set(status.values()) == {TestStatus.PASSED}


def test_memory_bomb_is_reported_per_test(adder: Exercise, backend: str) -> None:
    report, _ = grade_hostile(adder, "memory_bomb", backend)
    add_tests = [t for t in report.tests if t.category == "basics"]
    assert all(t.status is not TestStatus.PASSED for t in add_tests)
    if backend == "docker":
        assert any("ran out of memory" in t.message for t in add_tests), [t.message for t in add_tests]
    else:
        assert any("MemoryError" in t.message for t in add_tests), [t.message for t in add_tests]


def test_flood_is_capped(adder: Exercise, backend: str) -> None:
    report, _ = grade_hostile(adder, "flood", backend)
    assert len(report.output) <= 16_000


@pytest.mark.docker
def test_a_configured_runtime_reaches_the_grading_child(adder: Exercise) -> None:
    """The runtime is settled once and handed down: the harness child's Docker backend asks
    for it (a missing one is an error, never a silent fallback to the default runtime)."""
    backend_or_skip("docker")
    runner = ChildRunner(backend="docker", runtime="no-such-runtime")
    submission = from_text(b"def add(a, b):\n    return a + b\n", "adder.py")
    with pytest.raises(SandboxUnavailable, match="no runtime named 'no-such-runtime'"):
        grade(adder, submission, runner)
