"""Batch helpers and thread groups that run on the submission's side of the bridge.

Stdlib-only: in isolated mode this module runs inside the sandbox (a batch of calls costs one
round trip), in direct mode inside the harness. Whatever these functions return is the
submission's answer, so a hidden test may assert on it like on any other returned value.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: Bound now: a submission that replaces ``time.monotonic`` must not cut a join short.
_monotonic = time.monotonic

#: How much of an exception message an outcome keeps.
OUTCOME_MESSAGE_LIMIT = 200


def outcome(fn: Callable[[], Any]) -> list[Any]:
    """Run ``fn`` and describe how it ended as plain data."""
    try:
        return ["return", fn()]
    except Exception as exc:
        return ["raise", type(exc).__name__, str(exc)[:OUTCOME_MESSAGE_LIMIT]]


def unpack_call(call: Sequence[Any]) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
    """Accept ``(fn,)``, ``(fn, args)`` or ``(fn, args, kwargs)``."""
    fn = call[0]
    args = tuple(call[1]) if len(call) > 1 else ()
    kwargs = dict(call[2]) if len(call) > 2 else {}
    return fn, args, kwargs


def call_each(fn: Callable[..., Any], args_list: Iterable[Sequence[Any]]) -> list[Any]:
    """``[fn(*args) for args in args_list]``."""
    return [fn(*args) for args in args_list]


def outcomes(fn: Callable[..., Any], args_list: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Like ``call_each`` but never raises: one outcome per call."""
    return [outcome(lambda a=tuple(args): fn(*a)) for args in args_list]  # type: ignore[misc]


def run_calls(calls: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Make each ``(fn, args[, kwargs])`` call in order, never raising: one outcome per call."""
    out = []
    for call in calls:
        fn, args, kwargs = unpack_call(call)
        out.append(outcome(lambda f=fn, a=args, k=kwargs: f(*a, **k)))  # type: ignore[misc]
    return out


def collect(iterable: Iterable[Any], limit: int = 1_000_000) -> list[Any]:
    """Up to ``limit`` items of an iterable, as a list."""
    return list(itertools.islice(iter(iterable), limit))


def collect_each(
    fn: Callable[..., Any], args_list: Iterable[Sequence[Any]], limit: int = 1_000_000
) -> list[list[Any]]:
    """``[list(fn(*args)) for args in args_list]``, each cut at ``limit`` items."""
    return [collect(fn(*args), limit) for args in args_list]


#: The helpers a hidden test may hand to a thread group by name (e.g. ``kit.outcomes``).
BATCH_HELPERS: dict[str, Callable[..., Any]] = {
    "call_each": call_each,
    "outcomes": outcomes,
    "run_calls": run_calls,
    "collect": collect,
    "collect_each": collect_each,
}


class ThreadGroup:
    """Threads started together, each making one call; ``join`` for their outcomes."""

    def __init__(self, calls: Sequence[Sequence[Any]], switch_interval: float | None) -> None:
        self._outcomes: list[list[Any] | None] = [None] * len(calls)
        barrier = threading.Barrier(len(calls)) if calls else None
        self._old_interval = sys.getswitchinterval()
        if switch_interval is not None:
            # A tiny interval makes unlocked check-then-act races show up far more often.
            sys.setswitchinterval(switch_interval)
        self._threads = [
            threading.Thread(target=self._worker, args=(i, call, barrier), daemon=True)
            for i, call in enumerate(calls)
        ]
        for thread in self._threads:
            thread.start()

    def _worker(self, index: int, call: Sequence[Any], barrier: threading.Barrier | None) -> None:
        """Wait for every sibling, then make the call."""
        fn, args, kwargs = unpack_call(call)
        if barrier is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=10.0)
        self._outcomes[index] = outcome(lambda: fn(*args, **kwargs))

    def join(self, timeout: float = 10.0) -> list[list[Any]]:
        """Wait for all threads; each outcome is ``["return", value]`` or
        ``["raise", type_name, message]``, or ``["timeout"]`` for a thread still running."""
        deadline = _monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - _monotonic()))
        sys.setswitchinterval(self._old_interval)
        return [o if o is not None else ["timeout"] for o in self._outcomes]
