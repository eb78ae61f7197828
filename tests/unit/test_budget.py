"""A test's time budget: tight on an idle machine, fair on a busy one, never past the ceiling."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import timing
from grader.budget import CPU_FLOOR, CallBudget, TestBudget, cpu_limit, pressure_stall_seconds
from grader.grading import grade
from grader.harness.supervisor import DirectRunner
from grader.submission import from_path

from ..busy import assert_adds_passed_slowly, cpu_bound_adder, hogging_every_core


class Machine:
    """A fake clock, stall counter and CPU counter moved by hand."""

    def __init__(self, pressure: bool = True) -> None:
        self.now, self.stalled, self.cpu = 100.0, 50.0, 10.0
        self.pressure = pressure

    def run(self, wall: float, stalled: float = 0.0, cpu: float = 0.0) -> None:
        self.now += wall
        self.stalled += stalled
        self.cpu += cpu

    def budget(self, limit: float, ceiling: float, cpu: bool = True) -> TestBudget:
        return TestBudget(
            limit,
            ceiling,
            cpu=(lambda: self.cpu) if cpu else None,
            clock=lambda: self.now,
            stall=lambda: self.stalled if self.pressure else None,
        )


def test_on_an_idle_machine_the_limit_is_wall_time() -> None:
    machine = Machine()
    budget = machine.budget(0.5, 5.0)
    machine.run(0.49)
    assert budget.overrun() is None
    assert budget.due >= machine.now + 0.01
    machine.run(0.01)
    assert budget.overrun() == "timed out after 0.5 s"


def test_time_the_machine_was_stalled_does_not_count() -> None:
    machine = Machine()
    budget = machine.budget(0.5, 5.0)
    machine.run(2.0, stalled=1.8, cpu=0.3)  # an honest test waiting for a CPU
    assert budget.overrun() is None
    # Looked at again no later than the unstalled time or the CPU time could reach the limit.
    assert budget.due == pytest.approx(machine.now + min(0.3, 0.2 / (os.cpu_count() or 1)))
    machine.run(0.3)
    assert (
        budget.overrun() == "timed out after 0.5 s (2.3 s by the clock, 1.8 s of it a busy machine)"
    )


def test_a_busy_loop_is_caught_by_its_cpu_time_however_busy_the_machine() -> None:
    machine = Machine()
    budget = machine.budget(0.5, 5.0)
    machine.run(1.5, stalled=1.4, cpu=0.5)
    assert budget.overrun() == (
        "timed out after 0.5 s of CPU time (1.5 s by the clock, 1.4 s of it a busy machine)"
    )


def test_the_ceiling_holds_whatever_the_load() -> None:
    machine = Machine()
    budget = machine.budget(0.5, 5.0)
    machine.run(4.9, stalled=4.9)
    assert budget.overrun() is None
    assert budget.due <= budget.hard_end
    machine.run(0.1, stalled=0.1)
    assert budget.overrun() == (
        "timed out after 5 s (its own limit of 0.5 s was stretched: the machine was busy for"
        " 5.0 s of it)"
    )
    unprofiled = machine.budget(5.0, 5.0)  # no profile: the limit is the ceiling
    machine.run(5.0, stalled=5.0)
    assert unprofiled.overrun() == "timed out after 5 s"


def test_without_pressure_information_wall_time_counts() -> None:
    machine = Machine(pressure=False)
    budget = machine.budget(0.5, 5.0, cpu=False)
    machine.run(0.5, stalled=0.5)
    assert budget.overrun() is not None


def test_restart_counts_from_now() -> None:
    machine = Machine()
    budget = machine.budget(0.5, 5.0)
    machine.run(0.4, cpu=0.4)
    budget.restart()
    machine.run(0.4, cpu=0.4)
    assert budget.overrun() is None
    assert budget.hard_end == machine.now - 0.4 + 5.0


def test_a_call_has_a_limit_of_its_own_inside_its_test() -> None:
    machine = Machine()
    test = machine.budget(3.0, 5.0)
    call = CallBudget(
        test, 0.5, cpu=lambda: machine.cpu, clock=lambda: machine.now, stall=lambda: machine.stalled
    )
    # Short calls cost nothing: the call's own counters are read only once it ran a while.
    assert call.due == machine.now + CallBudget.ARM_AFTER and call.own is None
    machine.run(CallBudget.ARM_AFTER, cpu=CallBudget.ARM_AFTER)
    assert call.overrun() is None and call.own is not None
    machine.run(0.3, stalled=0.3, cpu=0.05)  # a busy machine: the call waited, honestly
    assert call.overrun() is None
    # Its first moments count as used: 0.45 s more of unstalled time end it, not 0.5 s.
    machine.run(0.44, cpu=0.05)
    assert call.overrun() is None
    machine.run(0.02, cpu=0.01)
    assert call.overrun() == (
        "timed out after 0.5 s in one call (0.8 s by the clock, 0.3 s of it a busy machine)"
    )


def test_a_call_budget_spins_out_on_cpu_and_the_test_budget_still_holds() -> None:
    machine = Machine()
    test = machine.budget(3.0, 5.0)
    spinning = CallBudget(
        test, 0.5, cpu=lambda: machine.cpu, clock=lambda: machine.now, stall=lambda: machine.stalled
    )
    machine.run(0.1, cpu=0.1)
    assert spinning.overrun() is None
    machine.run(2.0, stalled=1.9, cpu=0.35)
    assert spinning.overrun() is None
    machine.run(0.1, stalled=0.1, cpu=0.1)
    assert spinning.overrun() == (
        "timed out after 0.5 s of CPU time in one call (2.2 s by the clock, 2.0 s of it a busy"
        " machine)"
    )
    # A test already over its own budget says so, whatever the call's.
    machine.run(1.0, cpu=2.5)
    late = CallBudget(test, 0.5, cpu=lambda: machine.cpu, clock=lambda: machine.now)
    assert late.overrun() == (
        "timed out after 3 s of CPU time (3.2 s by the clock, 2.0 s of it a busy machine)"
    )


def test_a_limit_above_the_ceiling_is_the_ceiling() -> None:
    assert Machine().budget(9.0, 5.0).limit == 5.0


def test_the_kernel_pressure_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "cpu").write_text(
        "some avg10=1.00 avg60=0.50 avg300=0.10 total=1500000\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n"
    )
    (tmp_path / "memory").write_text(
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=250000\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=9\n"
    )
    assert pressure_stall_seconds(tmp_path) == 1.75
    without_memory = tmp_path / "older-kernel"
    without_memory.mkdir()
    (without_memory / "cpu").write_text((tmp_path / "cpu").read_text())
    assert pressure_stall_seconds(without_memory) is None


@pytest.fixture
def busy_machine() -> Iterator[None]:
    with hogging_every_core():
        yield


@pytest.mark.skipif(pressure_stall_seconds() is None, reason="no /proc/pressure on this kernel")
def test_honest_tests_do_not_time_out_on_a_busy_machine(tmp_path: Path, busy_machine: None) -> None:
    """Each add takes 0.15 s of CPU, under the floor's CPU limit, but on a machine with five
    busy loops per core it takes over 0.5 s of wall time: a wall-time deadline fails it."""
    exercise, source = cpu_bound_adder(tmp_path, "direct")
    report = grade(exercise, from_path(source, "adder.py"), DirectRunner())
    assert_adds_passed_slowly(report)


def test_the_cpu_rule_may_have_a_tighter_limit_of_its_own() -> None:
    machine = Machine()
    budget = TestBudget(
        0.5,
        5.0,
        cpu=lambda: machine.cpu,
        clock=lambda: machine.now,
        stall=lambda: machine.stalled,
        cpu_limit=0.25,
    )
    assert budget.due == machine.now + 0.25  # first look when the CPU rule could fire
    machine.run(0.8, stalled=0.7, cpu=0.24)
    assert budget.overrun() is None
    machine.run(0.1, stalled=0.09, cpu=0.01)
    assert budget.overrun() == (
        "timed out after 0.25 s of CPU time (0.9 s by the clock, 0.8 s of it a busy machine)"
    )


def test_only_tests_held_to_the_floor_get_the_cpu_floor() -> None:
    assert cpu_limit(timing.FLOOR) == CPU_FLOOR
    assert cpu_limit(timing.FLOOR + 0.1) == timing.FLOOR + 0.1
    assert cpu_limit(0.1) == 0.1  # a limit below the CPU floor (set by hand) stays
