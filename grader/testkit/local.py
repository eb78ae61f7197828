"""The test kit's objects: fakes and probes that hidden tests hand to a submission.

They always live in the harness. In direct mode the submission calls them in-process; in
isolated mode it holds stand-ins whose calls come back over the bridge (see
:mod:`grader.bridge.kit_link`), so what these objects record is observed out of the
submission's reach in both modes. Every public method takes and returns plain data (or kit
objects), so the same hidden test works in both modes.
"""

from __future__ import annotations

import builtins
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
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def now(self) -> float:
        """The current time."""
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


class FakeSleep:
    """A ``sleep`` that records each duration and advances a fake clock instead of waiting."""

    def __init__(self, clock: FakeClock, max_calls: int = 100_000) -> None:
        self.clock = clock
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
            self.clock.advance(float(seconds))

    def calls(self) -> list[float]:
        """The durations slept, in order."""
        return list(self._calls)

    def total(self) -> float:
        """The sum of all durations slept."""
        return float(sum(self._calls))


def is_kit_exception(obj: Any) -> bool:
    """Whether ``obj`` is an exception class made by ``Kit.exception``."""
    return isinstance(obj, type) and obj.__dict__.get("_kit_exception") is True


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
    steps run out, the last one repeats. An optional ``gate`` makes each call wait there until
    the test opens it, for tests of concurrent callers.
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
        self.steps = [self._check_step(step) for step in steps]
        self._calls: list[list[Any]] = []
        self._lock = threading.Lock()
        self.gate = gate
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

    def record(self, args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """Record one call and return the step it gets (the call is not carried out)."""
        with self._lock:
            index = min(len(self._calls), len(self.steps) - 1)
            self._calls.append([list(args), dict(kwargs)])
            return self.steps[index]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        step = self.record(args, kwargs)
        if self.gate is not None:
            self.gate.pass_through()
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
    """A barrier callers wait at until the test opens it.

    A caller in the harness's own process blocks in :meth:`pass_through`; a call from a
    sandbox is parked with :meth:`when_open` and answered when the gate opens, while
    :meth:`wait_for_waiters` keeps serving the sandbox through ``pump``.
    """

    def __init__(self, pump: Callable[[float], None] | None = None) -> None:
        self._cond = threading.Condition()
        self._open = False
        self._waiting = 0
        self._passed = 0
        self._parked: list[Callable[[], None]] = []
        self._pump = pump

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

    def when_open(self, then: Callable[[], None]) -> None:
        """Run ``then`` once the gate is open (now, if it is), counting a waiter until then."""
        with self._cond:
            if not self._open:
                self._waiting += 1
                self._parked.append(then)
                self._cond.notify_all()
                return
            self._passed += 1
        then()

    def wait_for_waiters(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until ``n`` callers are held at the gate; ``False`` on timeout."""
        if self._pump is None:
            with self._cond:
                return self._cond.wait_for(lambda: self._waiting >= n, timeout)
        deadline = time.monotonic() + timeout
        while self._waiting < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._pump(min(left, 0.05))
        return True

    def open(self) -> None:
        """Let every current and future caller through."""
        with self._cond:
            self._open = True
            parked, self._parked = self._parked, []
            self._waiting -= len(parked)
            self._passed += len(parked)
            self._cond.notify_all()
        for then in parked:
            then()

    def waiting(self) -> int:
        """How many callers are held now."""
        if self._pump is not None:
            self._pump(0.0)  # count the callers that have arrived by now
        return self._waiting

    def passed(self) -> int:
        """How many callers went through."""
        return self._passed


class CountingKey:
    """A key that compares and hashes like its value, and counts every comparison and hash.

    Each of ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` counts once. In isolated mode the key
    stays here and the submission holds a stand-in without the value, so every comparison it
    makes is a call this side answers and counts.
    """

    __slots__ = ("_counter", "value")

    def __init__(self, value: Any, counter: ComparisonCounter) -> None:
        self.value = value
        self._counter = counter

    def _other(self, other: object) -> Any:
        self._counter.comparisons_made += 1
        return other.value if isinstance(other, CountingKey) else other

    def __eq__(self, other: object) -> bool:
        return bool(self.value == self._other(other))

    def __ne__(self, other: object) -> bool:
        return bool(self.value != self._other(other))

    def __lt__(self, other: object) -> bool:
        return bool(self.value < self._other(other))

    def __le__(self, other: object) -> bool:
        return bool(self.value <= self._other(other))

    def __gt__(self, other: object) -> bool:
        return bool(self.value > self._other(other))

    def __ge__(self, other: object) -> bool:
        return bool(self.value >= self._other(other))

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
