"""Holds on a warm pool's refills (``sandbox.pool_holds``), without Docker."""

from __future__ import annotations

import time

from sandbox.pool_holds import RefillHolds


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
