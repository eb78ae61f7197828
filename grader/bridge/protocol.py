"""The bridge protocol: every operation named once. Stdlib-only: it also runs in the sandbox.

Two directions share the channel:

* **Requests**, harness -> submission's side: ``{"id": n, "op": name, <fields>}``, answered by
  exactly one ``{"id": n, "ok": value}``, ``{"id": n, "exc": {...}}`` or
  ``{"id": n, "bridge_error": text}``. :data:`OPERATIONS` says, for each name, which fields a
  request carries, the handler that carries it out in the sandbox, and the check the harness
  applies to the decoded result.
* **Reverse calls**, submission's side -> harness: ``{"rid": n, "k": kit_id, "m": method,
  "args": [...], "kwargs": {...}}``, answered by ``{"rid": n, "ok": value}`` or
  ``{"rid": n, "raise": exception, "msg": text}``. The submission may only call kit objects the
  current test handed it, and only the methods :data:`REVERSE_METHODS` allows for their kind;
  the objects and what they record stay in the harness.
* **Call records**, submission's side -> harness, never answered: ``{"rec": kit_id, "args":
  [...], "kwargs": {...}}``, sent by the stand-in of a scripted callable without a gate each
  time it is called. Its steps are inputs, so the stand-in holds them and answers at once; the
  harness records the call. A submission that leaves a record out has, as far as anything it
  can gain, not made that call.

Any frame from the harness may carry ``"sync": [[kit_id, now], ...]``: the current time of fake
clocks the submission holds a copy of (a clock is an input, so its copy may live next to the
submission; nothing the harness asserts depends on that copy). A request may carry ``"quiet":
true``: the submission's side then blocks at once when it waits for a frame, without polling
first, until the next request (:mod:`grader.bridge.server_channel`; the harness asks for it
where it reads the sandbox's CPU counter). A *hush*, ``{"hush": true}``, is a frame that asks
only that, at once, and is never answered: the harness sends it before it reads the counter of
a subject that may still be polling after its last answer.

Adding a request operation is one entry here plus one proxy method on the harness side.
"""

from __future__ import annotations

from collections.abc import Callable

from grader.bridge import batches, wire

TYPE_CHECKING = False  # typing's own flag would import typing: 3 ms of every sandbox's start
if TYPE_CHECKING:
    from typing import Any

#: The largest reverse call the harness accepts, in bytes of JSON.
MAX_REVERSE_FRAME = 64 * 1024
#: The most reverse calls and call records one test may make (each is kept in the harness).
MAX_KIT_CALLS_PER_TEST = 200_000
#: The most items one iteration batch may ask for.
MAX_ITER_BATCH = 4096
#: How much of an exception message or repr crosses the bridge.
TEXT_LIMIT = 300

#: What the submission may call on each kind of kit object that lives in the harness. Clocks
#: are read from their local copy and exception classes are only raised and caught: neither
#: kind can be called back.
REVERSE_METHODS: dict[str, frozenset[str]] = {
    "call": frozenset({"__call__"}),
    "script": frozenset(),  # calls arrive as one-way records
    "sleep": frozenset({"__call__"}),
    "key": frozenset({"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__"}),
    "clock": frozenset(),
    "exc": frozenset(),
}

#: How request fields are decoded in the sandbox: ``value`` fields are wire-encoded values
#: (handles and kit objects resolved), ``text`` a string, ``count`` a positive int.
FIELD_KINDS = ("value", "text", "count")


class Operation:
    """One request the harness may make of the submission's side (a plain class: importing
    ``dataclasses`` or ``typing`` for a named tuple cost each sandbox milliseconds of its
    start)."""

    __slots__ = ("check", "fields", "handler", "name", "result")

    def __init__(
        self,
        name: str,
        fields: tuple[tuple[str, str], ...],
        handler: Callable[..., Any],
        result: str,
        check: Callable[[Any], bool],
    ) -> None:
        self.name = name
        #: (field name, kind) pairs; the handler gets them as keyword arguments.
        self.fields = fields
        #: Carries the request out in the sandbox and returns the (unencoded) result.
        self.handler = handler
        #: What the decoded result must satisfy on the harness side, in words and as a test.
        self.result = result
        self.check = check


def _any(value: Any) -> bool:
    return True


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_bool(value: Any) -> bool:
    return type(value) is bool


def _is_str(value: Any) -> bool:
    return type(value) is str


def _is_list(value: Any) -> bool:
    return type(value) is list


def _is_reference(value: Any) -> bool:
    """Not plain data: the harness got a proxy of an object left on the other side."""
    return type(value) not in (type(None), bool, int, float, str, bytes, list, tuple, dict)


def _is_attribute(value: Any) -> bool:
    return type(value) is list and (
        value == ["method"] or (len(value) == 2 and value[0] == "value")
    )


def _is_batch(value: Any) -> bool:
    return type(value) is list and len(value) == 2 and type(value[0]) is list and _is_bool(value[1])


def _getattr(obj: Any, name: str) -> list[Any]:
    """A bound method of ``obj`` stays here (the harness calls it by name); else the value."""
    value = getattr(obj, name)
    if getattr(value, "__self__", None) is obj and callable(value) and not isinstance(obj, type):
        return ["method"]
    return ["value", value]


def _setattr(obj: Any, name: str, value: Any) -> None:
    setattr(obj, name, value)


def _call(obj: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return obj(*args, **kwargs)


def _callmethod(obj: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return getattr(obj, name)(*args, **kwargs)


def _next(obj: Any, n: int) -> list[Any]:
    """Up to ``n`` items of an iterator, and whether it is exhausted."""
    items = []
    for _ in range(min(n, MAX_ITER_BATCH)):
        try:
            items.append(next(obj))
        except StopIteration:
            return [items, True]
    return [items, False]


def _text(fn: Callable[[Any], Any]) -> Callable[[Any], str]:
    def render(obj: Any) -> str:
        return safe_text(fn, obj)

    return render


def safe_text(fn: Callable[[Any], Any], obj: Any) -> str:
    """``str``/``repr`` of a submission object, never raising, cut to :data:`TEXT_LIMIT`."""
    try:
        text = fn(obj)
    except BaseException:
        return "<unprintable>"
    return text[:TEXT_LIMIT] if type(text) is str else "<unprintable>"


def _is_none(value: Any) -> bool:
    return value is None


def _measure(batch: str, fn: Any, args_list: Any, limit: int) -> None:
    """Run a batch whose CPU time the harness measures (``kit.cost``), keeping its results
    here: encoding them for the harness would be counted too, and nobody reads them."""
    if batch == "call_each":
        batches.call_each(fn, args_list)
    elif batch == "collect_each":
        batches.collect_each(fn, args_list, limit)
    else:
        raise wire.WireError(f"no measured batch {wire.text(batch, 50)!r}")


def _stepped(call: list[Any]) -> batches.SteppedCall:
    if type(call) is not list or not call:
        raise wire.WireError("a stepped call needs [fn, args, kwargs]")
    return batches.SteppedCall(call)


def _threads(calls: list[Any], switch_interval: float | None) -> batches.ThreadGroup:
    if switch_interval is not None and type(switch_interval) is not float:
        raise wire.WireError("switch_interval must be a float")
    return batches.ThreadGroup(calls, switch_interval)


_OBJ = ("obj", "value")
_ARGS = (("args", "value"), ("kwargs", "value"))
_BATCH = (("fn", "value"), ("args_list", "value"))

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("getattr", (_OBJ, ("name", "text")), _getattr, "method or value", _is_attribute),
        Operation("setattr", (_OBJ, ("name", "text"), ("value", "value")), _setattr, "None", _any),
        Operation("call", (_OBJ, *_ARGS), _call, "any value", _any),
        Operation("callmethod", (_OBJ, ("name", "text"), *_ARGS), _callmethod, "any value", _any),
        Operation("len", (_OBJ,), lambda obj: len(obj), "an int", _is_int),
        Operation(
            "contains", (_OBJ, ("item", "value")), lambda obj, item: item in obj, "a bool", _is_bool
        ),
        Operation("iter", (_OBJ,), lambda obj: iter(obj), "an iterator", _is_reference),
        Operation("next", (_OBJ, ("n", "count")), _next, "[items, done]", _is_batch),
        Operation("repr", (_OBJ,), _text(repr), "a str", _is_str),
        Operation("str", (_OBJ,), _text(str), "a str", _is_str),
        Operation("call_each", _BATCH, batches.call_each, "a list", _is_list),
        Operation("outcomes", _BATCH, batches.outcomes, "a list", _is_list),
        Operation("run_calls", (("calls", "value"),), batches.run_calls, "a list", _is_list),
        Operation(
            "collect",
            (_OBJ, ("limit", "count")),
            lambda obj, limit: batches.collect(obj, limit),
            "a list",
            _is_list,
        ),
        Operation(
            "collect_each", (*_BATCH, ("limit", "count")), batches.collect_each, "a list", _is_list
        ),
        Operation(
            "measure", (("batch", "text"), *_BATCH, ("limit", "count")), _measure, "None", _is_none
        ),
        Operation(
            "threads",
            (("calls", "value"), ("switch_interval", "value")),
            _threads,
            "a thread group",
            _is_reference,
        ),
        Operation("stepped", (("call", "value"),), _stepped, "a stepped call", _is_reference),
    )
}


def request_fields(op: str, fields: dict[str, Any]) -> Operation:
    """The operation named ``op``, once ``fields`` are exactly the ones it takes (harness side)."""
    operation = OPERATIONS[op]
    expected = {name for name, _kind in operation.fields}
    if set(fields) != expected:
        raise TypeError(f"operation {op!r} takes {sorted(expected)}, got {sorted(fields)}")
    return operation


def decode_request(
    request: dict[str, Any], decode: Callable[[Any], Any]
) -> tuple[Operation, dict[str, Any]]:
    """The operation and handler arguments of a request (sandbox side); ``WireError`` if bad."""
    operation = OPERATIONS.get(request.get("op"))  # type: ignore[arg-type]
    if operation is None:
        raise wire.WireError(f"unknown operation {wire.text(str(request.get('op')), 50)!r}")
    arguments: dict[str, Any] = {}
    for name, kind in operation.fields:
        if name not in request:
            raise wire.WireError(f"operation {operation.name!r} needs {name!r}")
        raw = request[name]
        if kind == "value":
            arguments[name] = decode(raw)
        elif kind == "text":
            arguments[name] = wire.text(raw)
        else:
            if type(raw) is not int or raw < 0:
                raise wire.WireError(f"{name!r} must be a non-negative int")
            arguments[name] = raw
    return operation, arguments
