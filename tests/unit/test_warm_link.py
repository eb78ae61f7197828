"""The child/parent link for warm sandboxes, with a fake pool (no Docker)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.exercise import Exercise
from grader.harness import supervisor, warm_link
from grader.harness.events import HarnessEvent, WarmWanted
from grader.harness.supervisor import ChildRunner, collect_suite
from grader.harness.warm_link import WarmDispenser, WarmLink
from sandbox import SandboxLimits


class FakePool:
    """Hands out ``c1``, ``c2``, ... and records what was discarded."""

    def __init__(self, ready: int) -> None:
        self.ready, self.served, self.discarded = ready, 0, []  # type: ignore[var-annotated]
        self.asked: list[SandboxLimits] = []
        self.holds: list[str] = []

    def hold_refills(self, seconds: float) -> Callable[[], None]:
        self.holds.append(f"held {seconds:g} s")
        return lambda: self.holds.append("released")

    def claim(self, limits: SandboxLimits) -> str | None:
        self.asked.append(limits)
        if self.served >= self.ready:
            return None
        self.served += 1
        return f"c{self.served}"

    def discard(self, ids: list[str]) -> None:
        self.discarded += ids


class WarmUpPool(FakePool):
    """A fake pool a runner can use: it is also asked to keep a shape warm."""

    def warm_up(self, limits: SandboxLimits) -> None:
        self.asked.append(limits)


def test_the_child_asks_with_its_limits_and_reads_the_answer() -> None:
    read_fd, write_fd = os.pipe()
    sent: list[HarnessEvent] = []
    link = WarmLink(sent.append, fd=read_fd)
    os.write(write_fd, b"abc123\n\n")
    limits = SandboxLimits(wall_timeout=42, pids=128)
    assert link.take(limits) == "abc123"
    assert link.take(limits) is None  # an empty line: the pool had none
    assert isinstance(sent[0], WarmWanted)
    assert SandboxLimits(**json.loads(sent[0].limits)) == limits
    os.close(write_fd)
    os.close(read_fd)


def test_no_answer_in_time_means_a_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm_link, "ANSWER_SECONDS", 0.05)
    read_fd, write_fd = os.pipe()
    assert WarmLink(lambda event: None, fd=read_fd).take(SandboxLimits()) is None
    os.close(write_fd)
    os.close(read_fd)


def test_the_parent_answers_and_removes_everything_it_handed_out() -> None:
    pool = FakePool(ready=2)
    stdin = io.BytesIO()
    dispenser = WarmDispenser(pool, stdin)  # type: ignore[arg-type]
    event = WarmWanted(json.dumps({"wall_timeout": 42.0, "pids": 128}))
    for _ in range(3):
        dispenser.answer(event)
    assert stdin.getvalue() == b"c1\nc2\n\n"
    assert pool.asked[0] == SandboxLimits(wall_timeout=42.0, pids=128)
    dispenser.finish()
    assert pool.discarded == ["c1", "c2"]  # used or not: never handed out again


def test_a_child_holds_its_pools_refills_back_until_it_ends() -> None:
    """New containers would start beside the grading that took the old ones."""
    pool = FakePool(ready=2)
    dispenser = WarmDispenser(pool)  # type: ignore[arg-type]
    dispenser.hand_over(SandboxLimits(), 2)
    assert pool.holds == [f"held {warm_link.REFILL_HOLD_SECONDS:g} s"]
    dispenser.finish()
    assert pool.holds[-1] == "released" and pool.discarded == ["c1", "c2"]


def test_containers_handed_over_at_the_start_need_no_request() -> None:
    pool = FakePool(ready=1)
    dispenser = WarmDispenser(pool)  # type: ignore[arg-type]
    limits = SandboxLimits(wall_timeout=42, pids=128)
    handed = dispenser.hand_over(limits, 2)  # the pool has one ready: one, not two
    assert handed == {"c1": warm_link.limits_key(limits)}
    read_fd, write_fd = os.pipe()
    sent: list[HarnessEvent] = []
    link = WarmLink(sent.append, fd=read_fd, handed=json.loads(json.dumps(handed)))
    os.write(write_fd, b"\n")  # the parent's answer to the request below: none ready
    other = SandboxLimits(wall_timeout=7)
    assert link.take(other) is None  # another shape: asked for, not taken from the spec
    assert [json.loads(e.limits) for e in sent if isinstance(e, WarmWanted)] == [
        json.loads(warm_link.limits_key(other))
    ]
    assert link.take(limits) == "c1" and len(sent) == 1  # from the spec, no request
    os.write(write_fd, b"c9\n")
    assert link.take(limits) == "c9" and len(sent) == 2  # handed once only: then asked for
    os.close(write_fd)
    os.close(read_fd)
    dispenser.finish()
    assert pool.discarded == ["c1"]  # removed whether the child used it or not


def test_the_service_exposes_the_pool_on_metrics() -> None:
    from api.metrics import Metrics
    from api.services import register_pool_gauges

    metrics = Metrics()
    register_pool_gauges(metrics)
    text = metrics.render(0, 0, 0)
    for name in ("ready", "handed_out", "created", "misses"):
        assert f"grader_sandbox_pool_{name} 0.0" in text


def test_containers_handed_to_a_child_that_never_started_are_removed(
    adder: Exercise, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = WarmUpPool(ready=2)
    runner = ChildRunner(backend="docker", pool=pool)  # type: ignore[arg-type]

    def cannot_start(*args: object, **kwargs: object) -> None:
        raise OSError("no more processes")

    tests = collect_suite(adder)
    staged = tmp_path / "submission"
    staged.mkdir()
    monkeypatch.setattr(supervisor, "start_child", cannot_start)
    with pytest.raises(OSError, match="no more processes"):
        runner.run(adder, staged, tests)
    assert pool.served == 1 and pool.discarded == ["c1"]  # claimed for it, then removed
