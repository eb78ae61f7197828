"""The harness's end of the reverse path: kit objects stay here and the submission calls them.

A hidden test hands kit objects (scripted callables, fake sleeps, clocks, counting keys, kit
exception classes) to the submission. Each is described to the sandbox once per test under a
*kit id*; the sandbox makes a stand-in (:mod:`grader.bridge.stand_ins`) whose calls come back
here as reverse calls. This module checks each one (an object of the current test, a method its
kind allows, plain-data arguments), carries it out on the real object, which records it, and
answers. What a test reads back (a script's calls, the sleeps, key comparisons, a gate's
waiters) is therefore observed here, out of the submission's reach.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from grader.bridge import protocol, wire
from grader.bridge.errors import ProtocolViolation
from grader.testkit.local import CountingKey, FakeClock, FakeSleep, Script, is_kit_exception


def kind_of(obj: Any) -> str | None:
    """The kit kind of a harness object, or ``None`` if it is not one that may be passed."""
    if isinstance(obj, FakeClock):
        return "clock"
    if isinstance(obj, FakeSleep):
        return "sleep"
    if isinstance(obj, Script):
        return "call"
    if isinstance(obj, CountingKey):
        return "key"
    if is_kit_exception(obj):
        return "exc"
    return None


class KitLink:
    """Kit ids for the current test's objects, their clock copies, and the reverse calls."""

    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        decode: Callable[[Any], Any],
        encode: Callable[[Any], Any],
    ) -> None:
        self._send, self._decode, self._encode = send, decode, encode
        self._ids: dict[int, int] = {}  # id(obj) -> kit id, for the current test
        self._objects: dict[int, Any] = {}  # kit id -> obj
        self._clock_times: dict[int, float] = {}  # kit id -> time last sent
        self._next_id = 1
        self._pending: list[Callable[[BaseException], None]] = []
        self._calls = 0  # reverse calls and call records in the current test

    # -- describing objects to the sandbox ----------------------------------------

    def describe(self, obj: Any) -> dict[str, Any] | None:
        """The reference that makes the sandbox's stand-in for ``obj``; ``None`` if not kit."""
        kind = kind_of(obj)
        if kind is None:
            return None
        kit_id = self._ids.get(id(obj))
        if kit_id is None:
            kit_id = self._next_id
            self._next_id += 1
            self._ids[id(obj)] = kit_id
            self._objects[kit_id] = obj
            if kind == "clock":  # what the stand-in starts from; later moves go as "sync"
                self._clock_times[kit_id] = obj.now()
        ref: dict[str, Any] = {"$k": kit_id, "t": kind}
        if kind == "clock":
            ref["now"] = self._clock_times[kit_id]
        elif kind == "sleep":
            ref["clock"] = self.describe(obj.clock)
        elif kind == "call":
            ref["n"] = str(getattr(obj, "__name__", "kit"))[:100]
            doc = getattr(obj, "__doc__", None)
            ref["doc"] = doc[: protocol.TEXT_LIMIT] if isinstance(doc, str) else None
            if isinstance(obj, Script) and obj.gate is None:
                ref["t"] = "script"
                ref["steps"] = [self._describe_step(step) for step in obj.steps]
        elif kind == "exc":
            ref["n"] = obj.__name__
            base = obj.__bases__[0]
            ref["b"] = self.describe(base) if is_kit_exception(base) else base.__name__
        return ref

    def _describe_step(self, step: tuple[Any, ...]) -> list[Any]:
        """A script step as the stand-in replays it."""
        if step[0] == "return":
            return ["return", self._encode(step[1])]
        cls = step[1]
        return [
            "raise",
            self.describe(cls) if is_kit_exception(cls) else _builtin_name(cls),
            step[2],
        ]

    def resolve(self, data: dict[str, Any]) -> Any:
        """The harness object a ``{"$k": id}`` from the sandbox stands for (this test's only)."""
        obj = self._objects.get(wire.ident(data["$k"]))
        if obj is None:
            raise wire.WireError("a kit object that this test did not hand over")
        return obj

    def with_clock_times(self, message: dict[str, Any]) -> dict[str, Any]:
        """Add the times of this test's clocks that moved since the sandbox last heard."""
        changed = []
        for kit_id, sent in self._clock_times.items():
            now = self._objects[kit_id].now()
            if now != sent:
                changed.append([kit_id, now])
                self._clock_times[kit_id] = now
        if changed:
            message["sync"] = changed
        return message

    def end_test(self) -> None:
        """Forget the test's objects; calls still held (a gate never opened) fail over there."""
        pending, self._pending = self._pending, []
        for fail in pending:
            fail(TimeoutError("the test ended before this call could finish"))
        self._ids.clear()
        self._objects.clear()
        self._clock_times.clear()
        self._calls = 0

    # -- serving reverse calls ---------------------------------------------------------

    def serve(self, message: dict[str, Any]) -> None:
        """Carry out one reverse call and answer it (now, or when its gate opens), or take
        one call record."""
        self._calls += 1
        if self._calls > protocol.MAX_KIT_CALLS_PER_TEST:
            raise ProtocolViolation(
                f"more than {protocol.MAX_KIT_CALLS_PER_TEST} calls to kit objects in one test"
            )
        if "rec" in message:
            self._take_record(message)
            return
        rid = message.get("rid")
        if type(rid) is not int:
            raise ProtocolViolation("a call from the submission's side without a call id")
        what = "call from the submission's side"
        try:
            kit_id = wire.ident(message.get("k"))
            method = wire.text(message.get("m"), 50)
        except wire.WireError as exc:
            raise ProtocolViolation(f"malformed {what}: {exc}") from None
        args, kwargs = self._arguments(message, what)
        obj = self._objects.get(kit_id)
        if obj is None:
            # A thread of an earlier test, or a made-up id: refused there, not fatal here.
            self._answer_raise(rid, RuntimeError("no such kit object in this test"))
            return
        if method not in protocol.REVERSE_METHODS[kind_of(obj) or "exc"]:
            raise ProtocolViolation(
                f"the submission's side may not call {method!r} of a kit object"
            )
        if isinstance(obj, Script):
            self._serve_script(rid, obj, args, kwargs)
            return
        try:
            result = getattr(obj, method)(*args, **kwargs)
        except Exception as exc:
            self._answer_raise(rid, exc)
            return
        if isinstance(obj, FakeSleep):
            # The stand-in moved its clock's copy already, as a sleep moves the clock at once
            # for every thread: nothing to send for this move.
            clock_id = self._ids.get(id(obj.clock))
            if clock_id is not None:
                self._clock_times[clock_id] = obj.clock.now()
        self._answer(rid, result)

    def _take_record(self, message: dict[str, Any]) -> None:
        """Record a call the stand-in of an ungated script answered itself."""
        try:
            obj = self._objects.get(wire.ident(message.get("rec")))
        except wire.WireError as exc:
            raise ProtocolViolation(f"malformed call record: {exc}") from None
        args, kwargs = self._arguments(message, "call record")
        if obj is None:
            return  # a thread of an earlier test: its test is over
        if not isinstance(obj, Script) or obj.gate is not None:
            raise ProtocolViolation("a call record for a kit object that is not a plain script")
        obj.record(args, kwargs)

    def _arguments(self, message: dict[str, Any], what: str) -> tuple[list[Any], dict[str, Any]]:
        """The decoded arguments of a reverse call or call record (plain data and handles)."""
        try:
            args = self._decode(message.get("args", []))
            kwargs = self._decode(message.get("kwargs", {"$d": []}))
        except wire.WireError as exc:
            raise ProtocolViolation(f"malformed {what}: {exc}") from None
        if type(args) is not list or type(kwargs) is not dict:
            raise ProtocolViolation(f"malformed {what}")
        return args, kwargs

    def _serve_script(self, rid: int, script: Script, args: list[Any], kwargs: Any) -> None:
        """Record the call; answer its step now, or when the script's gate opens."""
        step = script.record(args, kwargs)

        def finish(failure: BaseException | None = None) -> None:
            if failure is not None:
                self._answer_raise(rid, failure)
            elif step[0] == "raise":
                self._answer_raise(rid, step[1](step[2]))
            else:
                self._answer(rid, step[1])

        if script.gate is None:
            finish()
            return
        self._pending.append(finish)

        def released() -> None:
            if finish in self._pending:
                self._pending.remove(finish)
                finish()

        script.gate.when_open(released)

    def _answer(self, rid: int, result: Any) -> None:
        try:
            encoded = self._encode(result)
        except (TypeError, wire.WireError) as exc:
            self._answer_raise(rid, TypeError(f"a kit result that cannot cross: {exc}"))
            return
        self._send({"rid": rid, "ok": encoded})

    def _answer_raise(self, rid: int, exc: BaseException) -> None:
        cls = type(exc)
        raised: Any = self.describe(cls) if is_kit_exception(cls) else _builtin_name(cls)
        self._send({"rid": rid, "raise": raised, "msg": str(exc)[: protocol.TEXT_LIMIT]})


def _builtin_name(cls: type[BaseException]) -> str:
    """The nearest builtin exception class's name."""
    for base in cls.__mro__:
        if getattr(builtins, base.__name__, None) is base:
            return str(base.__name__)
    return "Exception"
