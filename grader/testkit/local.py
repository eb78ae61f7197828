"""The test kit's local implementation: fakes and probes that hidden tests hand to a submission.

This module is stdlib-only on purpose: in isolated mode it runs inside the sandbox, next to the
submission, and the harness drives its objects by requests. Every public method therefore takes
and returns plain data (or kit objects), so the same hidden test works in both modes.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: Builtin exception classes a script step or an exception factory may name as a string.
_BUILTIN_EXCEPTIONS = {
    name: obj
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, BaseException)
}


class FakeClock:
    """A monotonic clock in seconds that only moves when the test says so."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._reads = 0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self._reads += 1
            return self._now

    def now(self) -> float:
        """The current time, without counting as a read."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (>= 0) and return the new time."""
        if seconds < 0:
            raise ValueError("a monotonic clock cannot go backwards; use set()")
        with self._lock:
            self._now += float(seconds)
            return self._now

    def set(self, t: float) -> None:
        """Jump to time ``t``; may go backwards, for tests of clocks that misbehave."""
        with self._lock:
            self._now = float(t)

    def reads(self) -> int:
        """How many times the submission read this clock."""
        return self._reads


class FakeSleep:
    """A ``sleep`` that records each duration and advances a fake clock instead of waiting."""

    def __init__(self, clock: FakeClock, max_calls: int = 100_000) -> None:
        self._clock = clock
        self._calls: list[float] = []
        self._max_calls = max_calls
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        with self._lock:
            if len(self._calls) >= self._max_calls:
                # A busy-waiting submission would otherwise spin forever on a fake clock.
                raise RuntimeError(f"sleep called more than {self._max_calls} times")
            self._calls.append(float(seconds))
            self._clock.advance(float(seconds))

    def calls(self) -> list[float]:
        """The durations slept, in order."""
        return list(self._calls)

    def total(self) -> float:
        """The sum of all durations slept."""
        return float(sum(self._calls))


def _resolve_exception(exc: str | type[BaseException]) -> type[BaseException]:
    """Turn a builtin exception name or a class into an exception class."""
    if isinstance(exc, str):
        try:
            return _BUILTIN_EXCEPTIONS[exc]
        except KeyError:
            raise ValueError(f"not a builtin exception name: {exc!r}") from None
    if isinstance(exc, type) and issubclass(exc, BaseException):
        return exc
    raise TypeError(f"expected an exception class or a builtin name, got {exc!r}")


class Script:
    """A callable that returns or raises on a schedule and records how it was called.

    Steps are ``("return", value)`` or ``("raise", exception, message)``, where ``exception``
    is a builtin exception name (``"ValueError"``) or a class made by ``Kit.exception``. Once the
    steps run out, the last one repeats. Optional ``block`` makes each call wait on a ``Gate``
    before acting, for tests of concurrent callers.
    """

    def __init__(
        self,
        steps: Sequence[Sequence[Any]],
        name: str = "scripted",
        doc: str | None = None,
        gate: Gate | None = None,
    ) -> None:
        if not steps:
            raise ValueError("a script needs at least one step")
        self._steps = [self._check_step(step) for step in steps]
        self._calls: list[list[Any]] = []
        self._lock = threading.Lock()
        self._gate = gate
        self.__name__ = name
        self.__qualname__ = name
        self.__doc__ = doc
        self.__module__ = "grader_kit"

    @staticmethod
    def _check_step(step: Sequence[Any]) -> tuple[Any, ...]:
        """Validate one step and resolve its exception class."""
        kind = step[0] if step else None
        if kind == "return" and len(step) == 2:
            return ("return", step[1])
        if kind == "raise" and len(step) in (2, 3):
            message = step[2] if len(step) == 3 else ""
            return ("raise", _resolve_exception(step[1]), str(message))
        raise ValueError(f"bad script step {step!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            index = min(len(self._calls), len(self._steps) - 1)
            self._calls.append([list(args), dict(kwargs)])
            step = self._steps[index]
        if self._gate is not None:
            self._gate.pass_through()
        if step[0] == "raise":
            raise step[1](step[2])
        return step[1]

    def calls(self) -> list[list[Any]]:
        """Each call as ``[args, kwargs]``, in order."""
        with self._lock:
            return [[list(a), dict(k)] for a, k in self._calls]

    def call_count(self) -> int:
        """How many times the script was called."""
        return len(self._calls)


class Gate:
    """A barrier a callable can wait at until the test opens it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._open = False
        self._waiting = 0
        self._passed = 0

    def pass_through(self, timeout: float = 10.0) -> None:
        """Block until the gate is open (fails loudly rather than hang forever)."""
        with self._cond:
            self._waiting += 1
            self._cond.notify_all()
            opened = self._cond.wait_for(lambda: self._open, timeout)
            self._waiting -= 1
            if not opened:
                raise TimeoutError("gate was never opened")
            self._passed += 1

    def wait_for_waiters(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until ``n`` callers are blocked at the gate; ``False`` on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._waiting >= n, timeout)

    def open(self) -> None:
        """Let every current and future caller through."""
        with self._cond:
            self._open = True
            self._cond.notify_all()

    def waiting(self) -> int:
        """How many callers are blocked now."""
        return self._waiting

    def passed(self) -> int:
        """How many callers went through."""
        return self._passed


def _outcome(fn: Callable[[], Any]) -> list[Any]:
    """Run ``fn`` and describe how it ended as plain data."""
    try:
        return ["return", fn()]
    except Exception as exc:
        return ["raise", type(exc).__name__, str(exc)[:200]]


class ThreadGroup:
    """Threads started together on the submission's side; join for their outcomes."""

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
        fn, args, kwargs = _unpack_call(call)
        if barrier is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=10.0)
        self._outcomes[index] = _outcome(lambda: fn(*args, **kwargs))

    def join(self, timeout: float = 10.0) -> list[list[Any]]:
        """Wait for all threads; each outcome is ``["return", value]`` or
        ``["raise", type_name, message]``, or ``["timeout"]`` for a thread still running."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        sys.setswitchinterval(self._old_interval)
        return [o if o is not None else ["timeout"] for o in self._outcomes]


def _unpack_call(call: Sequence[Any]) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
    """Accept ``(fn,)``, ``(fn, args)`` or ``(fn, args, kwargs)``."""
    fn = call[0]
    args = tuple(call[1]) if len(call) > 1 else ()
    kwargs = dict(call[2]) if len(call) > 2 else {}
    return fn, args, kwargs


@functools.total_ordering
class CountingKey:
    """A key that compares and hashes like its value, and counts every comparison and hash."""

    __slots__ = ("_counter", "value")

    def __init__(self, value: Any, counter: ComparisonCounter) -> None:
        self.value = value
        self._counter = counter

    def _other(self, other: object) -> Any:
        self._counter.comparisons_made += 1
        return other.value if isinstance(other, CountingKey) else other

    def __eq__(self, other: object) -> bool:
        return bool(self.value == self._other(other))

    def __lt__(self, other: object) -> bool:
        return bool(self.value < self._other(other))

    def __hash__(self) -> int:
        self._counter.hashes_made += 1
        return hash(self.value)

    def __repr__(self) -> str:
        return f"CountingKey({self.value!r})"


class ComparisonCounter:
    """Makes ``CountingKey`` objects and totals the comparisons and hashes they see."""

    def __init__(self) -> None:
        self.comparisons_made = 0
        self.hashes_made = 0

    def keys(self, values: Iterable[Any]) -> list[CountingKey]:
        """One counting key per value, in order."""
        return [CountingKey(v, self) for v in values]

    def comparisons(self) -> int:
        """Comparisons (==, !=, <, <=, >, >=) made since the last reset."""
        return self.comparisons_made

    def hashes(self) -> int:
        """Hashes computed since the last reset."""
        return self.hashes_made

    def reset(self) -> None:
        """Start counting from zero."""
        self.comparisons_made = 0
        self.hashes_made = 0


def key_values(keys: Iterable[Any]) -> list[Any]:
    """Unwrap counting keys (and leave plain values alone), for comparing results."""
    return [k.value if isinstance(k, CountingKey) else k for k in keys]
