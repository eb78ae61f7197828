"""Forced interleavings: stop one call before each line of the submission's code in turn and
run a second call on the same object there, so a missing lock fails every time it matters.

For each point ``k`` the test makes a fresh object; a stepped call (see
:class:`grader.bridge.batches.SteppedCall`) runs the first call's first ``k`` lines and pauses
before the next, the second call runs in a thread of its own, and once it has ended (or a
short *window* has passed, when the first call holds a lock the second one needs) the first
call runs free. A correct, thread-safe object gives a result some serial order would give at
every point; the test asserts only that. The window's length never decides a correct
solution's result: it only bounds how long a second call that is shut out is waited for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

#: How long the second calls of a round get to end while the first calls are paused. Only a
#: second call that is shut out (a lock the paused first call holds) waits it out.
WINDOW = 0.25
#: Points tried at most: lines of the first call it may be stopped before (0 = before any).
MOST_POINTS = 48
#: Points tried at once, each with two threads (a sandbox may run only a few dozen).
ROUND = 16
#: Generous bound for a call running alone to reach its next pause or end.
PATIENCE = 5.0


@dataclass
class Interleaving:
    """One point: the first call was stopped before its ``point``-th line of the submission's
    code (counting from 0) while the second call ran; the outcomes are
    ``["return", value]``, ``["raise", type_name, message]`` or ``["timeout"]``."""

    point: int
    target: Any
    first: list[Any]
    second: list[Any]


class _KitThreads(Protocol):
    """What the sweep needs of the kit."""

    def stepped(
        self, fn: Any, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        """Start a stepped call."""

    def threads(self, calls: Sequence[Sequence[Any]], switch_interval: float | None = None) -> Any:
        """Start one thread per call."""


Call = Sequence[Any]


def sweep(
    kit: _KitThreads,
    make: Callable[[], Any],
    first: Callable[[Any], Call],
    second: Callable[[Any], Call],
    window: float = WINDOW,
    most_points: int = MOST_POINTS,
) -> list[Interleaving]:
    """Every interleaving of ``first(target)`` stopped at a line boundary with a whole
    ``second(target)``, each on a fresh ``target = make()``, until the first call ends."""
    results: list[Interleaving] = []
    point, ended = 0, False
    while not ended and point < most_points:
        batch: list[tuple[int, Any, Any]] = []
        try:
            while len(batch) < ROUND and point < most_points and not ended:
                target = make()
                fn, *rest = first(target)
                stepper = kit.stepped(fn, *rest)
                batch.append((point, target, stepper))
                status = stepper.advance(point, PATIENCE)
                if status == "running":
                    raise AssertionError(
                        f"a call running alone did not get through {point} lines of the "
                        f"submission's code within {PATIENCE:g} s"
                    )
                ended = status == "done"
                point += 1
            group = kit.threads([second(target) for _, target, _ in batch])
            group.join(window)
        finally:
            for _, _, stepper in batch:
                stepper.release()
        firsts = [stepper.join(PATIENCE) for _, _, stepper in batch]
        seconds = group.join(PATIENCE)
        for (at, target, _), one, two in zip(batch, firsts, seconds, strict=True):
            results.append(Interleaving(at, target, list(one), list(two)))
    return results
