"""The ``kit`` fixture's interface: factories for the fakes and probes hidden tests may use.

Every object the kit makes lives in the harness. The batch helpers run a batch of calls on the
submission's side (one round trip in isolated mode); what they return is the submission's
answer. :meth:`Kit.cost` measures CPU time from outside the submission's process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from grader.bridge import batches
from grader.bridge.wire import only_plain_rows

from . import interleave
from .local import (
    ComparisonCounter,
    CountingKey,
    FakeClock,
    FakeSleep,
    Gate,
    Script,
    _resolve_exception,
)


class RemoteBatches(Protocol):
    """The submission's side of a batch, in isolated mode (a bridge)."""

    def batch(self, op: str, **fields: Any) -> Any:
        """Run batch operation ``op`` over there and return its decoded result."""

    def cost(self, op: str, fn: Callable[..., Any], args_list: list[Any]) -> float:
        """CPU seconds the submission's sandbox spent on batch ``op(fn, args_list)``."""


class KitSide(Protocol):
    """How a kit reaches the submission's side in isolated mode."""

    def bridge_of(self, fn: Any) -> RemoteBatches | None:
        """The bridge ``fn`` belongs to, or ``None`` for a harness-side callable."""

    def pump(self, seconds: float) -> None:
        """Serve the submission's calls to kit objects for up to ``seconds``."""


def _unwrap(value: Any) -> Any:
    """Replace counting keys by their values, also inside tuples and lists."""
    if type(value) is list and only_plain_rows(value):  # a batch's results, most often
        return value
    if isinstance(value, CountingKey):
        return value.value
    if isinstance(value, tuple):
        return tuple(_unwrap(v) for v in value)
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


class Kit:
    """Factories for test doubles, batch helpers, and cost measured from outside."""

    def __init__(self, side: KitSide | None = None) -> None:
        self._side = side

    def _bridge(self, fn: Any) -> RemoteBatches | None:
        return self._side.bridge_of(fn) if self._side is not None else None

    def _call_bridge(self, call: Sequence[Any]) -> RemoteBatches | None:
        """Where a thread's call runs: its callable's side, or for a kit batch helper
        (``(kit.outcomes, (breaker.call, batch))``) the side of the helper's callable, for
        ``kit.run_calls`` the side of the first of its calls that has one."""
        bridge = self._bridge(call[0])
        helper = getattr(call[0], "__self__", None) is self
        if bridge is None and helper and len(call) > 1 and call[1]:
            first = call[1][0]
            if getattr(call[0], "__name__", "") == "run_calls":
                inner = (c[0] for c in first if isinstance(c, Sequence) and c)
                bridge = next(filter(None, map(self._bridge, inner)), None)
            else:
                bridge = self._bridge(first)
        if bridge is None and helper and self._side is not None:
            # Run here, the helper would make requests from a second thread: refuse instead.
            raise TypeError("a kit helper in a thread must name a submission object to run with")
        return bridge

    # -- test doubles ----------------------------------------------------------------

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
        parent = _resolve_exception(base)
        if not issubclass(parent, Exception):
            raise ValueError("a kit exception must derive from Exception")
        return type(name, (parent,), {"__module__": "grader_kit", "_kit_exception": True})

    def gate(self) -> Gate:
        """A gate that scripted callables can block on until the test opens it."""
        return Gate(pump=self._side.pump if self._side is not None else None)

    def counter(self) -> ComparisonCounter:
        """A counter that makes keys recording their comparisons and hashes."""
        return ComparisonCounter()

    # -- batches on the submission's side ----------------------------------------------

    def threads(self, calls: Sequence[Sequence[Any]], switch_interval: float | None = None) -> Any:
        """Start one thread per ``(fn, args[, kwargs])`` call on the submission's side, all
        released together; ``.join(timeout)`` gives one outcome per call."""
        bridge = next(filter(None, map(self._call_bridge, calls)), None)
        if bridge is None:
            return batches.ThreadGroup(calls, switch_interval)
        interval = float(switch_interval) if switch_interval is not None else None
        return bridge.batch("threads", calls=[list(c) for c in calls], switch_interval=interval)

    def stepped(
        self, fn: Callable[..., Any], args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        """Start ``fn(*args, **kwargs)`` in a thread on the submission's side, paused before
        the first line of the submission's code it would run: ``.advance(lines, timeout)``
        lets it run that many more lines and pause again (``"paused"``, ``"done"`` or
        ``"running"`` if stuck), ``.release()`` lets it run free, ``.join(timeout)`` gives its
        outcome. ``fn`` may be a kit helper, e.g. ``kit.stepped(kit.read, (bucket, "tokens"))``.
        """
        call: list[Any] = [fn, list(args)] + ([dict(kwargs)] if kwargs else [])
        bridge = self._call_bridge(call)
        if bridge is None:
            return batches.SteppedCall(call)
        return bridge.batch("stepped", call=call)

    def interleavings(
        self,
        make: Callable[[], Any],
        first: Callable[[Any], Sequence[Any]],
        second: Callable[[Any], Sequence[Any]],
        window: float = interleave.WINDOW,
    ) -> list[interleave.Interleaving]:
        """For each line boundary of call ``first(target)`` in the submission's code, stop it
        there and run call ``second(target)`` whole, each point on a fresh ``target = make()``;
        one :class:`~grader.testkit.interleave.Interleaving` per point. Assert that every
        point's outcomes and final state are those of some serial order: a thread-safe
        object passes at every point, one with a missing lock fails at the point it matters.
        """
        return interleave.sweep(self, make, first, second, window)

    def read(self, obj: Any, name: str) -> Any:
        """``getattr(obj, name)``; as a call in a kit thread (``(kit.read, (bucket, "tokens"))``)
        it reads a property on the submission's side."""
        return getattr(obj, name)

    def call_each(self, fn: Callable[..., Any], args_list: Iterable[Sequence[Any]]) -> list[Any]:
        """Call ``fn(*args)`` for each args in one batch; the results, counting keys unwrapped."""
        return self._batch("call_each", fn, args_list)  # type: ignore[no-any-return]

    def outcomes(
        self, fn: Callable[..., Any], args_list: Iterable[Sequence[Any]]
    ) -> list[list[Any]]:
        """Like ``call_each`` but never raises: ``["return", v]`` or ``["raise", type, msg]``."""
        return self._batch("outcomes", fn, args_list)  # type: ignore[no-any-return]

    def collect_each(
        self, fn: Callable[..., Any], args_list: Iterable[Sequence[Any]], limit: int = 1_000_000
    ) -> list[list[Any]]:
        """``[list(fn(*args)) for args in args_list]`` in one batch (keys unwrapped), e.g. for
        many ``sl.range(lo, hi)`` calls."""
        return self._batch("collect_each", fn, args_list, limit=limit)  # type: ignore[no-any-return]

    def call_each_side_by_side(
        self, batches: Sequence[tuple[Callable[..., Any], Iterable[Sequence[Any]]]]
    ) -> list[list[Any]]:
        """``[kit.call_each(fn, args_list) for fn, args_list in batches]``, with batches for
        different sandboxes (the submission's and the reference's) running at the same time.

        For building large structures quickly; never measure a cost this way.
        """
        results: list[list[Any]] = [[] for _ in batches]
        failures: list[BaseException] = []

        def run(index: int, fn: Any, args_list: Iterable[Sequence[Any]]) -> None:
            try:
                results[index] = self.call_each(fn, args_list)
            except BaseException as exc:  # re-raised in the test's own thread below
                failures.append(exc)

        by_side: dict[int, list[tuple[int, Any, Any]]] = {}
        for index, (fn, args_list) in enumerate(batches):
            by_side.setdefault(id(self._bridge(fn)), []).append((index, fn, args_list))

        def run_all(jobs: list[tuple[int, Any, Any]]) -> None:
            for job in jobs:
                run(*job)

        threads = [
            threading.Thread(target=run_all, args=(jobs,), daemon=True) for jobs in by_side.values()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        return results

    def _batch(self, op: str, fn: Any, args_list: Iterable[Sequence[Any]], **extra: Any) -> Any:
        """Batch ``op`` over ``fn`` and its argument lists, where ``fn`` lives; keys unwrapped."""
        bridge = self._bridge(fn)
        args = _lists(args_list)
        if bridge is None:
            return _unwrap(batches.BATCH_HELPERS[op](fn, args, **extra))
        return _unwrap(bridge.batch(op, fn=fn, args_list=args, **extra))

    def run_calls(self, calls: Iterable[Sequence[Any]]) -> list[list[Any]]:
        """Make each ``(fn, args[, kwargs])`` call in order, never raising.

        Each outcome is ``["return", value]`` or ``["raise", type_name, message]``, counting
        keys unwrapped. ``fn`` may differ from call to call (``cache.put``, ``clock.advance``,
        ``cache.__contains__`` ...): consecutive calls into the submission cost one round trip,
        and calls of kit objects are made here, in order between them.
        """
        out: list[list[Any]] = []
        run: list[list[Any]] = []
        run_bridge: RemoteBatches | None = None
        for call in calls:
            bridge = self._bridge(call[0])
            if run and bridge is not run_bridge:
                assert run_bridge is not None
                out += run_bridge.batch("run_calls", calls=run)
                run = []
            if bridge is None:
                out += batches.run_calls([call])
            else:
                run.append(list(call))
                run_bridge = bridge
        if run:
            assert run_bridge is not None
            out += run_bridge.batch("run_calls", calls=run)
        return _unwrap(out)  # type: ignore[no-any-return]

    def collect(self, iterable: Iterable[Any], limit: int = 1_000_000) -> list[Any]:
        """Materialise up to ``limit`` items of an iterable in one batch (keys unwrapped)."""
        bridge = self._bridge(iterable)
        if bridge is None:
            return _unwrap(batches.collect(iterable, limit))  # type: ignore[no-any-return]
        return _unwrap(bridge.batch("collect", obj=iterable, limit=limit))  # type: ignore[no-any-return]

    # -- cost ------------------------------------------------------------------------------

    def cost(
        self, fn: Callable[..., Any], args_list: Iterable[Sequence[Any]], collect: bool = False
    ) -> float:
        """CPU seconds spent on ``fn(*args)`` for each args (``list(fn(*args))`` with
        ``collect``, e.g. for ``sl.range``), measured outside the submission.

        In isolated mode the harness reads the sandbox's CPU counter (its cgroup) before and
        after one batch, so nothing the submission does to its own timers changes the figure;
        in direct mode it is this process's CPU time. Compare costs only with costs measured
        in the same run (another size, or the ``reference`` fixture), never with a constant.
        """
        bridge = self._bridge(fn)
        args = _lists(args_list)
        op = "collect_each" if collect else "call_each"
        if bridge is not None:
            return bridge.cost(op, fn, args)
        start = time.process_time()
        batches.BATCH_HELPERS[op](fn, args)
        return time.process_time() - start


def _lists(args_list: Iterable[Sequence[Any]]) -> list[Any]:
    """Argument tuples as lists (what crosses the bridge cheaply)."""
    return [list(args) for args in args_list]
