"""Stepped calls and forced interleavings: a call stopped before each line of the submission's
code in turn, so a missing lock fails every time. In direct mode and over the bridge (process
sandbox, no Docker needed)."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from grader.bridge import batches
from grader.bridge.proxy import Bridge, BridgeSide, FollowingProxy
from grader.testkit import Kit

from .bridged import bridged

#: A counter with a lock, one without (a read and a write on two lines), and helpers.
SUBMISSION = b"""
import threading

class Counter:
    def __init__(self, locked):
        self.n = 0
        self.locked = locked
        self._lock = threading.Lock()

    def bump(self):
        if self.locked:
            with self._lock:
                return self._bump()
        return self._bump()

    def _bump(self):
        seen = self.n
        self.n = seen + 1
        return seen

    @property
    def value(self):
        with self._lock:
            return self.n

def three_lines(fn):
    a = 1
    b = fn()
    return [a, b]

def wait_for(event):
    event.wait()
    return "woken"

def leave():
    raise SystemExit(4)
"""


@pytest.fixture
def sub(tmp_path: Path) -> Iterator[ModuleType]:
    """``SUBMISSION`` imported in this process, from a file outside the grader and stdlib."""
    path = tmp_path / "stepsub.py"
    path.write_bytes(SUBMISSION)
    spec = importlib.util.spec_from_file_location("stepsub", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("stepsub", None)


@pytest.fixture
def bridge() -> Iterator[Bridge]:
    """A subject serving ``SUBMISSION`` as module ``stepsub``, behind a bridge."""
    with bridged("stepsub", SUBMISSION, 10.0) as served:
        yield served


def bumps_once_each(kit: Kit, sub: Any, locked: bool) -> list[Any]:
    """Interleave two bumps of a fresh counter at every line of the first."""
    return kit.interleavings(
        lambda: sub.Counter(locked),
        lambda counter: (counter.bump, []),
        lambda counter: (counter.bump, []),
        window=0.2,
    )


# -- stepped calls --------------------------------------------------------------------------


def test_a_stepped_call_pauses_before_each_line_of_the_submission_only(sub: ModuleType) -> None:
    kit = Kit()
    script = kit.returns("from the kit")  # kit code: never stepped through
    stepped = kit.stepped(sub.three_lines, (script,))
    assert stepped.advance(0) == "paused" and stepped.lines() == 0
    assert stepped.advance(1) == "paused" and stepped.lines() == 1  # ran `a = 1`
    assert script.call_count() == 0
    assert stepped.advance(1) == "paused" and script.call_count() == 1  # ran `b = fn()`
    assert stepped.advance(5) == "done"
    assert stepped.lines() == 3
    assert stepped.join(1.0) == ["return", [1, "from the kit"]]


def test_a_paused_call_holds_the_submissions_lock(sub: ModuleType) -> None:
    kit = Kit()
    counter = sub.Counter(locked=True)
    stepped = kit.stepped(counter.bump)
    while stepped.advance(1) == "paused" and not counter._lock.locked():
        pass
    other = kit.threads([(kit.read, (counter, "value"))])
    assert other.join(0.2) == [["timeout"]]  # shut out while the stepped call is stopped
    stepped.release()
    assert stepped.join(2.0) == ["return", 0]
    assert other.join(2.0) == [["return", 1]]


def test_a_stuck_call_reports_running_and_an_ending_one_its_outcome(sub: ModuleType) -> None:
    kit = Kit()
    event = threading.Event()
    stepped = kit.stepped(sub.wait_for, (event,))
    assert stepped.advance(5, timeout=0.1) == "running"
    event.set()
    assert stepped.join(2.0) == ["return", "woken"]
    leaving = kit.stepped(sub.leave)
    leaving.release()
    assert leaving.join(2.0)[:2] == ["raise", "SystemExit"]
    with pytest.raises(ValueError):
        leaving.advance(-1)


def test_a_call_left_paused_runs_free_after_the_pause_limit(
    sub: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "STEP_PAUSE_LIMIT", 0.1)
    stepped = Kit().stepped(sub.three_lines, (lambda: 2,))
    assert stepped.join(3.0) == ["return", [1, 2]]


def test_only_code_outside_the_grader_and_libraries_is_the_submissions(tmp_path: Path) -> None:
    assert batches.is_submission_code(str(tmp_path / "solution.py"))
    assert not batches.is_submission_code(batches.__file__)
    assert not batches.is_submission_code(importlib.__file__)
    assert not batches.is_submission_code(pytest.__file__)
    assert not batches.is_submission_code("<string>")


# -- interleavings ------------------------------------------------------------------------------


def test_with_a_lock_every_interleaving_is_serial(sub: ModuleType) -> None:
    points = bumps_once_each(Kit(), sub, locked=True)
    assert len(points) >= 4
    for point in points:
        assert sorted([point.first, point.second]) == [["return", 0], ["return", 1]]
        assert point.target.value == 2


def test_without_the_lock_some_interleaving_loses_an_update_every_time(sub: ModuleType) -> None:
    for _ in range(5):
        points = bumps_once_each(Kit(), sub, locked=False)
        lost = [p.point for p in points if p.target.value != 2]
        assert lost, "no interleaving lost an update"
        assert all(points[i].first == points[i].second == ["return", 0] for i in lost)


def test_kit_read_reads_a_property_in_a_kit_thread(sub: ModuleType) -> None:
    kit = Kit()
    counter = sub.Counter(locked=True)
    counter.bump()
    assert kit.threads([(kit.read, (counter, "value"))]).join(2.0) == [["return", 1]]
    assert kit.read(counter, "value") == 1


# -- over the bridge --------------------------------------------------------------------------


def kit_for(bridge: Bridge) -> Kit:
    bridge.kit.end_test()
    return Kit(BridgeSide([bridge]))


def test_stepped_calls_run_on_the_submissions_side(bridge: Bridge) -> None:
    kit = kit_for(bridge)
    sub = FollowingProxy(bridge)
    script = kit.returns("kit")
    stepped = kit.stepped(sub.three_lines, (script,))
    assert stepped.advance(1) == "paused" and script.call_count() == 0
    assert stepped.advance(1) == "paused" and script.call_count() == 1
    stepped.release()
    assert stepped.join(2.0) == ["return", [1, "kit"]]


def test_interleavings_over_the_bridge_catch_the_missing_lock(bridge: Bridge) -> None:
    kit = kit_for(bridge)
    sub = FollowingProxy(bridge)
    for locked in (True, False):

        def make(locked: bool = locked) -> Any:
            return sub.Counter(locked)

        points = kit.interleavings(
            make,
            lambda counter: (counter.bump, []),
            lambda counter: (counter.bump, []),
            window=0.2,
        )
        values = [kit.read(p.target, "value") for p in points]
        assert (values == [2] * len(points)) is locked
        assert len(points) >= 4
    threads = kit.threads([(kit.read, (points[0].target, "value"))])
    assert threads.join(2.0) == [["return", values[0]]]


def test_a_run_calls_thread_runs_on_the_side_of_its_calls(bridge: Bridge) -> None:
    kit = kit_for(bridge)
    counter = FollowingProxy(bridge).Counter(True)
    calls = [(counter.bump, []), (kit.read, [counter, "value"])]
    group = kit.threads([(kit.run_calls, (calls,))])
    assert group.join(5.0) == [["return", [["return", 0], ["return", 1]]]]
    # Run in the harness, the helper would make requests from a second thread: refused.
    with pytest.raises(TypeError, match="must name a submission object"):
        kit.threads([(kit.run_calls, ([(kit.returns(1), [])],))])
