"""The ``kit`` fixture's interface: factories for the fakes and probes hidden tests may use.

Stdlib-only, like ``local``: in isolated mode this object lives next to the submission and the
harness holds a proxy of it. Hidden tests must create every non-plain object they hand to a
submission through this kit.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .local import (
    ComparisonCounter,
    CountingKey,
    FakeClock,
    FakeSleep,
    Gate,
    Script,
    ThreadGroup,
    _outcome,
    _resolve_exception,
    _unpack_call,
)


def _unwrap(value: Any) -> Any:
    """Replace counting keys by their values, also inside tuples and lists."""
    if isinstance(value, CountingKey):
        return value.value
    if isinstance(value, tuple):
        return tuple(_unwrap(v) for v in value)
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


class Kit:
    """Factories for test doubles, and batch helpers that run next to the submission."""

    def clock(self, start: float = 0.0) -> FakeClock:
        """A fake monotonic clock starting at ``start`` seconds."""
        return FakeClock(start)

    def sleeper(self, clock: FakeClock, max_calls: int = 100_000) -> FakeSleep:
        """A fake ``sleep`` that advances ``clock`` by each duration it is given."""
        return FakeSleep(clock, max_calls)

    def script(
        self,
        steps: Sequence[Sequence[Any]],
        name: str = "scripted",
        doc: str | None = None,
        gate: Gate | None = None,
    ) -> Script:
        """A callable following ``steps``: ``("return", v)`` or ``("raise", exc, msg)``."""
        return Script(steps, name=name, doc=doc, gate=gate)

    def returns(self, value: Any = None, name: str = "returns", doc: str | None = None) -> Script:
        """A callable that always returns ``value``."""
        return Script([("return", value)], name=name, doc=doc)

    def raises(
        self, exc: str | type[BaseException], message: str = "", name: str = "raises"
    ) -> Script:
        """A callable that always raises ``exc(message)``."""
        return Script([("raise", exc, message)], name=name)

    def exception(
        self, name: str, base: str | type[BaseException] = "Exception"
    ) -> type[BaseException]:
        """A new exception class called ``name``, subclassing a builtin (by name) or a kit class."""
        if not name.isidentifier():
            raise ValueError(f"not an identifier: {name!r}")
        cls = type(name, (_resolve_exception(base),), {"__module__": "grader_kit"})
        return cls

    def gate(self) -> Gate:
        """A gate that scripted callables can block on until the test opens it."""
        return Gate()

    def threads(
        self, calls: Sequence[Sequence[Any]], switch_interval: float | None = None
    ) -> ThreadGroup:
        """Start one thread per ``(fn, args[, kwargs])`` call, all released together."""
        return ThreadGroup(calls, switch_interval)

    def counter(self) -> ComparisonCounter:
        """A counter that makes keys recording their comparisons and hashes."""
        return ComparisonCounter()

    def call_each(self, fn: Callable[..., Any], args_list: Iterable[Sequence[Any]]) -> list[Any]:
        """Call ``fn(*args)`` for each args in one batch; the results, counting keys unwrapped."""
        return [_unwrap(fn(*args)) for args in args_list]

    def outcomes(
        self, fn: Callable[..., Any], args_list: Iterable[Sequence[Any]]
    ) -> list[list[Any]]:
        """Like ``call_each`` but never raises: ``["return", v]`` or ``["raise", type, msg]``."""
        out = []
        for args in args_list:
            result = _outcome(lambda a=tuple(args): fn(*a))  # type: ignore[misc]
            out.append([result[0], _unwrap(result[1]), *result[2:]])
        return out

    def run_calls(self, calls: Iterable[Sequence[Any]]) -> list[list[Any]]:
        """Make each ``(fn, args[, kwargs])`` call in order, in one batch, never raising.

        Each outcome is ``["return", value]`` or ``["raise", type_name, message]``, counting
        keys unwrapped. ``fn`` may differ from call to call (``cache.put``, ``clock.advance``,
        ``cache.__contains__`` ...), so a whole scripted scenario costs one round trip.
        """
        out = []
        for call in calls:
            fn, args, kwargs = _unpack_call(call)
            result = _outcome(lambda f=fn, a=args, k=kwargs: f(*a, **k))  # type: ignore[misc]
            out.append([result[0], _unwrap(result[1]), *result[2:]])
        return out

    def timed(self, fn: Callable[..., Any], args_list: Sequence[Sequence[Any]]) -> float:
        """Seconds taken by ``fn(*args)`` over all ``args_list``, measured next to the code."""
        start = time.perf_counter()
        for args in args_list:
            fn(*args)
        return time.perf_counter() - start

    def collect_each(
        self, fn: Callable[..., Any], args_list: Iterable[Sequence[Any]], limit: int = 1_000_000
    ) -> list[list[Any]]:
        """``[list(fn(*args)) for args in args_list]`` in one batch (keys unwrapped), e.g. for
        many ``sl.range(lo, hi)`` calls."""
        return [self.collect(fn(*args), limit) for args in args_list]

    def collect(self, iterable: Iterable[Any], limit: int = 1_000_000) -> list[Any]:
        """Materialise up to ``limit`` items of an iterable in one batch (keys unwrapped)."""
        return [_unwrap(v) for v in itertools.islice(iter(iterable), limit)]
