"""A warm pool's refill policy (``sandbox.pool_plan``), without Docker."""

from __future__ import annotations

import time

import pytest

from sandbox import SandboxLimits
from sandbox.pool_plan import CHECK_SECONDS, SHAPE_IDLE_SECONDS, RefillHolds, RefillPlan

SMALL = SandboxLimits(memory_bytes=256 << 20)
LARGE = SandboxLimits(memory_bytes=1 << 30)


def test_a_hold_lasts_until_released() -> None:
    holds = RefillHolds()
    first, second = holds.hold(60.0), holds.hold(60.0)
    assert holds.active()
    holds.release(first)
    assert holds.active()  # the other grading still runs
    holds.release(second)
    holds.release(second)  # twice: ignored
    assert not holds.active()


def test_a_hold_never_outlasts_its_time() -> None:
    """A grading that hangs, or a parent that never releases, does not stop refills."""
    holds = RefillHolds()
    holds.hold(0.05)
    assert holds.active()
    time.sleep(0.1)
    assert not holds.active()
    assert holds.next_expiry() is None


def test_the_emptiest_wanted_shape_is_filled_first() -> None:
    plan = RefillPlan(size=4, memory_budget=8 << 30)
    assert plan.most_needed({}) is None  # nothing claimed yet: nothing kept warm
    plan.want(SMALL)
    plan.want(LARGE)
    assert plan.most_needed({SMALL: 1, LARGE: 3}) == SMALL
    assert plan.most_needed({SMALL: 4, LARGE: 3}) == LARGE
    assert plan.most_needed({SMALL: 4, LARGE: 4}) is None


def test_the_memory_budget_bounds_what_is_kept_ready() -> None:
    plan = RefillPlan(size=4, memory_budget=3 << 30)
    plan.want(LARGE)
    assert plan.most_needed({LARGE: 2}) == LARGE  # 3 GiB with one more: within budget
    assert plan.most_needed({LARGE: 3}) is None  # a fourth would pass it
    plan.want(SMALL)
    # 2.75 GiB ready: a large one more would pass the budget, a small one fits exactly.
    assert plan.most_needed({LARGE: 2, SMALL: 3}) == SMALL
    assert plan.most_needed({LARGE: 2, SMALL: 3, SandboxLimits(memory_bytes=16 << 20): 1}) is None


def test_while_held_a_shape_is_filled_only_to_half_its_size() -> None:
    plan = RefillPlan(size=4, memory_budget=8 << 30)
    plan.want(SMALL)
    token = plan.holds.hold(60.0)
    assert plan.most_needed({SMALL: 1}) == SMALL  # below half: another grading needs it
    assert plan.most_needed({SMALL: 2}) is None
    plan.holds.release(token)
    assert plan.most_needed({SMALL: 2}) == SMALL


def test_asking_what_is_needed_forgets_no_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only ``forget_idle`` (the refill thread's pruning) stops keeping an idle shape warm;
    a question such as ``WarmPool.refilled`` changes nothing."""
    plan = RefillPlan(size=2, memory_budget=8 << 30)
    plan.want(SMALL)
    later = time.monotonic() + SHAPE_IDLE_SECONDS + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert plan.most_needed({}) == SMALL
    plan.forget_idle()
    assert plan.most_needed({}) is None


def test_the_refill_thread_wakes_when_a_hold_expires() -> None:
    plan = RefillPlan(size=2, memory_budget=8 << 30)
    assert plan.wait_seconds() == CHECK_SECONDS
    plan.holds.hold(0.2)
    assert 0.1 < plan.wait_seconds() <= 0.25
    plan.holds.hold(60.0)
    assert plan.wait_seconds() <= 0.25  # the first to expire counts
