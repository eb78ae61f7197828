"""Batch helpers and thread groups that run on the submission's side of the bridge.

Stdlib-only: in isolated mode this module runs inside the sandbox (a batch of calls costs one
round trip), in direct mode inside the harness. Whatever these functions return is the
submission's answer, so a hidden test may assert on it like on any other returned value.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence

TYPE_CHECKING = False  # typing's own flag would import typing: 3 ms of every sandbox's start
if TYPE_CHECKING:
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


def read(obj: Any, name: str) -> Any:
    """``getattr(obj, name)``: a property of a submission object, read in a kit thread."""
    return getattr(obj, name)


#: The helpers a hidden test may hand to a thread group by name (e.g. ``kit.outcomes``).
BATCH_HELPERS: dict[str, Callable[..., Any]] = {
    "call_each": call_each,
    "outcomes": outcomes,
    "run_calls": run_calls,
    "collect": collect,
    "collect_each": collect_each,
    "read": read,
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
            try:  # noqa: SIM105 - contextlib costs the sandbox's start a millisecond
                barrier.wait(timeout=10.0)
            except threading.BrokenBarrierError:
                pass
        self._outcomes[index] = outcome(lambda: fn(*args, **kwargs))

    def join(self, timeout: float = 10.0) -> list[list[Any]]:
        """Wait for all threads; each outcome is ``["return", value]`` or
        ``["raise", type_name, message]``, or ``["timeout"]`` for a thread still running."""
        deadline = _monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - _monotonic()))
        sys.setswitchinterval(self._old_interval)
        return [o if o is not None else ["timeout"] for o in self._outcomes]


#: A stepped call left paused this long runs free, so a test that never releases it cannot
#: keep the submission's thread (and any lock it holds) stuck for the rest of the run.
STEP_PAUSE_LIMIT = 30.0


def _library_dirs() -> tuple[str, ...]:
    """Folders of code that is not the submission's: the standard library, installed
    packages, and the grader package (this bridge, the kit's objects)."""
    import sysconfig  # only for stepped calls: 1-2 ms of every sandbox's start otherwise

    paths = sysconfig.get_paths()
    dirs = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    dirs.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return tuple(os.path.join(os.path.abspath(d), "") for d in dirs)


_LIBRARY_DIRS: tuple[str, ...] = ()


def is_submission_code(filename: str) -> bool:
    """Whether a code object's file is the submission's, whose lines a stepped call counts."""
    global _LIBRARY_DIRS
    if not _LIBRARY_DIRS:
        _LIBRARY_DIRS = _library_dirs()
    return not filename.startswith("<") and not os.path.abspath(filename).startswith(_LIBRARY_DIRS)


class SteppedCall:
    """One call in its own thread that pauses before each line of the submission's code it
    is about to run, until the test lets it run more lines (``advance``) or run free
    (``release``): a way to stop a thread at every point of an operation in turn.

    It pauses only between lines (a line tracer), never inside one, and holds whatever locks
    the submission holds at that point, exactly as a thread preempted there would.
    """

    def __init__(self, call: Sequence[Any]) -> None:
        self._cond = threading.Condition()
        self._allowed = 0  # lines it may start
        self._lines = 0  # lines it has started
        self._paused = self._free = self._done = False
        self._outcome: list[Any] | None = None
        self._known: dict[str, bool] = {}
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Sequence[Any]) -> None:
        fn, args, kwargs = unpack_call(call)
        sys.settrace(self._on_call)
        try:
            self._outcome = outcome(lambda: fn(*args, **kwargs))
        except BaseException as exc:  # e.g. SystemExit: still an outcome, not a hang
            self._outcome = ["raise", type(exc).__name__, str(exc)[:OUTCOME_MESSAGE_LIMIT]]
        finally:
            sys.settrace(None)
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def _on_call(self, frame: Any, event: str, arg: Any) -> Any:
        """Trace the lines of the submission's frames only."""
        filename = frame.f_code.co_filename
        mine = self._known.get(filename)
        if mine is None:
            mine = self._known[filename] = is_submission_code(filename)
        return self._on_line if mine and not self._free else None

    def _on_line(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line" and not self._free:
            self._pause_if_due()
        return self._on_line

    def _pause_if_due(self) -> None:
        """Wait here while the lines allowed are used up; then count the line."""
        with self._cond:
            deadline = _monotonic() + STEP_PAUSE_LIMIT
            while not self._free and self._lines >= self._allowed:
                self._paused = True
                self._cond.notify_all()
                left = deadline - _monotonic()
                if left <= 0:
                    self._free = True
                    break
                self._cond.wait(left)
            self._paused = False
            self._lines += 1

    def advance(self, lines: int, timeout: float = 10.0) -> str:
        """Let it run ``lines`` more lines, then pause before the next one. Returns
        ``"paused"`` once it waits there, ``"done"`` if the call ended first, or
        ``"running"`` if neither happened within ``timeout`` seconds (stuck, e.g. on a lock)."""
        if type(lines) is not int or lines < 0:
            raise ValueError("lines must be a non-negative int")
        with self._cond:
            self._allowed += lines
            self._cond.notify_all()
            self._cond.wait_for(
                lambda: self._done or (self._paused and self._lines >= self._allowed),
                max(0.0, float(timeout)),
            )
            if self._done:
                return "done"
            return "paused" if self._paused and self._lines >= self._allowed else "running"

    def lines(self) -> int:
        """How many lines of the submission's code it has started."""
        return self._lines

    def release(self) -> None:
        """Stop pausing: the call runs to its end."""
        with self._cond:
            self._free = True
            self._cond.notify_all()

    def join(self, timeout: float = 10.0) -> list[Any]:
        """The call's outcome (as ``ThreadGroup.join`` gives it), or ``["timeout"]`` if it has
        not ended within ``timeout`` seconds."""
        with self._cond:
            self._cond.wait_for(lambda: self._done, max(0.0, float(timeout)))
            return self._outcome if self._outcome is not None else ["timeout"]
