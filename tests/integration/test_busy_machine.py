"""Isolated grading on a busy machine: an honest test that waits for a CPU is not a timeout.

The subject's CPU time is read from outside its sandbox (cgroup or ``/proc``) and the machine's
stall time from ``/proc/pressure``; a wall-time deadline alone fails these tests (see
``tests/unit/test_budget.py`` for the direct-mode twin and for the rules themselves).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.budget import pressure_stall_seconds
from grader.grading import grade
from grader.harness.supervisor import ChildRunner
from grader.submission import from_path

from ..busy import assert_adds_passed_slowly, cpu_bound_adder, hogging_every_core


@pytest.mark.skipif(pressure_stall_seconds() is None, reason="no /proc/pressure on this kernel")
def test_honest_isolated_tests_do_not_time_out_on_a_busy_machine(
    tmp_path: Path, backend: str
) -> None:
    exercise, source = cpu_bound_adder(tmp_path, "isolated")
    runner = ChildRunner(backend=backend)
    with hogging_every_core():
        report = grade(exercise, from_path(source, "adder.py"), runner)
    assert report.mode == "isolated"
    assert_adds_passed_slowly(report)
