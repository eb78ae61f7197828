"""A busy machine on demand, and an honest submission whose tests need real CPU time: shared by
the unit and integration tests of per-test budgets (:mod:`grader.budget`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from grader import timing
from grader.catalogue import Catalogue
from grader.exercise import Exercise
from grader.report import Report, TestStatus

from .conftest import FIXTURES

ADD_TESTS = ["test_add_integers", "test_add_negative", "test_add_strings_concatenate"]


@contextmanager
def hogging_every_core(per_core: int = 5) -> Iterator[None]:
    """Busy loops, ``per_core`` per core, each in a session of its own (so that the
    scheduler's per-session groups do not lump them together), killed on exit."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
        for _ in range(per_core * (os.cpu_count() or 1))
    ]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def cpu_bound_adder(tmp_path: Path, mode: str) -> tuple[Exercise, Path]:
    """A copy of the adder exercise whose profile gives the add tests the 0.5 s floor in
    ``mode``, and a correct submission whose ``add`` spends 0.15 s of CPU time (under the
    floor's CPU limit, grader.budget.CPU_FLOOR), with a 20 s ceiling
    and a run limit of 300 s."""
    copy = tmp_path / "exercises" / "adder"
    shutil.copytree(FIXTURES / "exercises" / "adder", copy)
    # A ceiling that other work on the machine (a CI's second lane) does not reach: what is
    # tested is the stretched 0.5 s limit, which a wall-time deadline would end at 0.5 s.
    toml = copy / "exercise.toml"
    text = re.sub(r"(?m)^test_timeout = .*$", "test_timeout = 20.0", toml.read_text())
    toml.write_text(re.sub(r"(?m)^run_timeout = .*$", "run_timeout = 300.0", text))
    exercise = Catalogue(tmp_path / "exercises").get("adder")
    assert exercise.meta.limits.test_timeout == 20.0
    assert exercise.meta.limits.run_timeout == 300.0
    timing.record(exercise, mode, [dict.fromkeys(ADD_TESTS, 0.001)])
    source = tmp_path / "sub" / "adder.py"
    source.parent.mkdir()
    source.write_text(
        "import time\n\n"
        "def add(a, b):\n"
        "    end = time.process_time() + 0.15\n"
        "    while time.process_time() < end:\n"
        "        pass\n"
        "    return a + b\n\n"
        "class Counter:\n"
        "    def __init__(self, clock):\n        self._clock, self._ticks = clock, []\n"
        "    def tick(self):\n        self._ticks.append(self._clock())\n"
        "    def ticks_since(self, t):\n"
        "        return sum(1 for x in self._ticks if x >= t)\n"
    )
    return exercise, source


def assert_adds_passed_slowly(report: Report) -> None:
    """Every add test passed, and the machine was too busy for a wall-time deadline."""
    adds = [t for t in report.tests if t.name in ADD_TESTS]
    assert len(adds) == len(ADD_TESTS)
    assert all(t.status is TestStatus.PASSED for t in adds), [(t.name, t.message) for t in adds]
    assert max(t.duration for t in adds) > timing.FLOOR, [t.duration for t in adds]
