"""Harness-side stand-ins for objects that live with the submission.

A proxy forwards the operations hidden tests use (attributes, calls, ``len``, ``in``,
iteration) as requests. It never asks the submission whether two things are equal or whether
something is true: equality is identity of handles, and truthiness of an opaque object is an
error, so an object with a lying ``__eq__`` or ``__bool__`` cannot pass an assertion.
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from grader.bridge import batches, protocol, wire
from grader.bridge.client import Subject
from grader.bridge.errors import ProtocolViolation, SubjectDied
from grader.bridge.kit_link import KitLink

#: Dunder attributes a test may read from a submission object (e.g. a decorated function).
_REMOTE_DUNDERS = frozenset({"__name__", "__qualname__", "__wrapped__"})
_ITER_BATCH = 512
#: How long a cost reading waits for the subject to be at rest: longer than a timer tick at
#: 100 Hz, so that a subject that keeps running has its time counted by the tick meanwhile.
COST_SETTLE_SECONDS = 0.012
#: Kit batch helpers a test may hand to a thread group (``kit.threads([(kit.outcomes, ...)])``).
_KIT_HELPERS = frozenset(batches.BATCH_HELPERS)
#: A proxy's own operations a test may hand to a batch helper.
_PASSABLE_DUNDERS = frozenset({"__contains__", "__len__", "__iter__", "__call__"})
#: Builtin exceptions that must not escape into the harness as themselves.
_CONTROL_FLOW = frozenset(
    {"SystemExit", "KeyboardInterrupt", "GeneratorExit", "StopIteration", "StopAsyncIteration"}
)


class Bridge:
    """Encodes arguments, decodes results, and raises the submission's exceptions here."""

    def __init__(self, subject: Subject) -> None:
        self.subject = subject
        self._methods: set[tuple[int, int, str]] = set()
        #: Classes and functions read from the module, per generation: one round trip each.
        self.module_attrs: dict[tuple[int, str], Any] = {}
        self._exc_classes: dict[tuple[int, int], type[BaseException]] = {}
        self.kit = KitLink(subject.send, self.decode, self.encode)
        subject.on_reverse = self.kit.serve
        subject.outgoing = self.kit.with_clock_times

    # -- values ----------------------------------------------------------------

    def encode(self, value: Any) -> Any:
        """Encode an argument: plain data, or a reference to something on the other side."""
        return wire.encode(value, self._ref)

    def _ref(self, obj: Any) -> Any:
        """The reference for a proxy (of the current generation) or a kit object."""
        if isinstance(obj, RemoteObject):
            return obj._bridge_ref()
        described = self.kit.describe(obj)
        if described is not None:
            return described
        if (
            inspect.ismethod(obj)
            and type(obj.__self__).__name__ == "Kit"
            and obj.__name__ in _KIT_HELPERS
        ):
            return {"$kb": obj.__name__}  # e.g. kit.outcomes run by a thread over there
        if (
            inspect.ismethod(obj)
            and isinstance(obj.__self__, HandleProxy)
            and (obj.__name__ in _PASSABLE_DUNDERS)
        ):
            # e.g. kit.call_each(cache.__contains__, ...): the operation runs over there.
            return {"$m": [obj.__self__._bridge_ref(), obj.__name__]}
        if type(obj) is range:  # a convenience for tests: a range is its list of ints
            return self.encode(list(obj))
        if isinstance(obj, type) and getattr(obj, "_bridge_key", None):
            gen, hid = obj._bridge_key  # type: ignore[attr-defined]
            self._check_generation(gen)
            return {"$x": hid}
        raise TypeError(
            f"a hidden test may pass only plain data and kit objects, not {type(obj).__name__}"
        )

    def _check_generation(self, generation: int) -> None:
        """Refuse objects of a subject that has since been restarted."""
        if generation != self.subject.generation or self.subject.run is None:
            raise SubjectDied("this object belonged to a submission process that has stopped")

    def decode(self, data: Any) -> Any:
        """Decode a result, strictly."""
        try:
            return wire.decode(data, self._resolve)
        except wire.WireError as exc:
            raise ProtocolViolation(f"malformed value from the submission's side: {exc}") from None

    def _resolve(self, data: dict[str, Any]) -> Any:
        """Build the proxy a reference describes."""
        gen = self.subject.generation
        if "$k" in data:
            return self.kit.resolve(data)
        if "$h" in data:
            return HandleProxy(
                self,
                gen,
                wire.ident(data["$h"]),
                wire.ident(data.get("c", 0)),
                wire.text(data.get("t", "object"), 100),
            )
        if "$e" in data:
            return EnumMemberProxy(
                self,
                gen,
                wire.ident(data["h"]),
                wire.ident(data["$e"]),
                wire.text(data["c"], 100),
                wire.text(data["n"], 100),
                self.decode(data.get("v")),
            )
        if "$x" in data:
            return self.exception_class(
                wire.ident(data["$x"]),
                wire.text(data["n"], 100),
                wire.text(data.get("b", "Exception"), 100),
            )
        raise wire.WireError("unknown reference")

    def exception_class(self, hid: int, name: str, base_name: str) -> type[BaseException]:
        """One local class per exception class of the submission, so ``pytest.raises`` works."""
        key = (self.subject.generation, hid)
        if key not in self._exc_classes:
            base = getattr(builtins, base_name, Exception)
            if (
                not (isinstance(base, type) and issubclass(base, Exception))
                or base_name in _CONTROL_FLOW
            ):
                base = Exception
            if not name.isidentifier():
                name = "SubmissionError"
            self._exc_classes[key] = type(
                name, (base,), {"_bridge_key": key, "__module__": "submission"}
            )
        return self._exc_classes[key]

    # -- calls -----------------------------------------------------------------

    def exchange(self, op: str, quiet: bool = False, **fields: Any) -> dict[str, Any]:
        """Make request ``op`` with ``fields`` (encoded as the protocol says) and return the
        response, raising what the submission raised (``quiet``: see ``Subject.request``)."""
        operation = protocol.request_fields(op, fields)
        encoded = {
            name: self.encode(fields[name]) if kind == "value" else fields[name]
            for name, kind in operation.fields
        }
        response = self.subject.request(op, quiet=quiet, **encoded)
        if "exc" in response:
            raise self._exception(response["exc"])
        return response

    def call(self, op: str, **fields: Any) -> Any:
        """Make a request and return its decoded, checked result."""
        value = self.decode(self.exchange(op, **fields).get("ok"))
        operation = protocol.OPERATIONS[op]
        if not operation.check(value):
            raise ProtocolViolation(f"{op} did not return {operation.result}")
        return value

    def batch(self, op: str, **fields: Any) -> Any:
        """A kit batch operation run on the submission's side."""
        return self.call(op, **fields)

    def cost(self, op: str, fn: Callable[..., Any], args_list: list[Any]) -> float:
        """CPU seconds the sandbox spent on one batch (``call_each`` or ``collect_each``),
        read from outside it just before the request and just after the answer. The batch's
        results stay in the sandbox (``measure``), as direct mode drops them uncounted."""
        self.subject.ensure_running()
        self.subject.quiesce()
        before = self.subject.cpu_usage(settle=COST_SETTLE_SECONDS)
        self.exchange("measure", quiet=True, batch=op, fn=fn, args_list=args_list, limit=1_000_000)
        after = self.subject.cpu_usage(settle=COST_SETTLE_SECONDS)
        if before is None or after is None:
            raise SubjectDied("this sandbox cannot measure CPU time, so cost cannot be judged")
        return max(0.0, after - before)

    def _exception(self, info: Any) -> BaseException:
        """The local exception for one the submission raised."""
        if type(info) is not dict:
            return ProtocolViolation("malformed exception from the submission's side")
        name, message = (
            wire.text(info.get("type", ""), 100),
            wire.text(info.get("msg", ""), protocol.TEXT_LIMIT),
        )
        builtin = getattr(builtins, name, None)
        if (
            info.get("builtin") is True
            and isinstance(builtin, type)
            and issubclass(builtin, Exception)
            and name not in _CONTROL_FLOW
        ):
            return builtin(message)
        cls = info.get("cls")
        if type(cls) is dict and ("$x" in cls or "$k" in cls):
            local = self.decode(cls)
            if isinstance(local, type) and issubclass(local, Exception):
                return local(message)
        return ProtocolViolation("malformed exception from the submission's side")

    def getattr(self, target: RemoteObject, name: str) -> Any:
        """Read an attribute; methods come back as callables without a further round trip."""
        key = (target._bridge_gen, target._bridge_cls, name)
        if key in self._methods:
            return BoundMethodProxy(target, name)
        found = self.call("getattr", obj=target, name=name)
        if found == ["method"]:
            if target._bridge_cls:
                self._methods.add(key)
            return BoundMethodProxy(target, name)
        return found[1]


class RemoteObject:
    """Common base: something addressed on the submission's side."""

    _bridge: Bridge
    _bridge_gen: int
    _bridge_cls: int

    def _bridge_ref(self) -> dict[str, Any]:
        raise NotImplementedError


class HandleProxy(RemoteObject):
    # No docstring on purpose: ``__doc__`` must come from the submission's object.

    __slots__ = ("_bridge", "_bridge_cls", "_bridge_gen", "_bridge_id", "_bridge_type")

    def __init__(self, bridge: Bridge, gen: int, hid: int, cls: int, type_name: str) -> None:
        object.__setattr__(self, "_bridge", bridge)
        object.__setattr__(self, "_bridge_gen", gen)
        object.__setattr__(self, "_bridge_id", hid)
        object.__setattr__(self, "_bridge_cls", cls)
        object.__setattr__(self, "_bridge_type", type_name)

    def _bridge_ref(self) -> dict[str, Any]:
        self._bridge._check_generation(self._bridge_gen)
        return {"$h": self._bridge_id}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name not in _REMOTE_DUNDERS:
            raise AttributeError(name)
        return self._bridge.getattr(self, name)

    @property
    def __doc__(self) -> Any:  # type: ignore[override]
        return self._bridge.getattr(self, "__doc__")

    def __setattr__(self, name: str, value: Any) -> None:
        self._bridge.call("setattr", obj=self, name=name, value=value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._bridge.call("call", obj=self, args=list(args), kwargs=kwargs)

    def __len__(self) -> int:
        return self._bridge.call("len", obj=self)  # type: ignore[no-any-return]

    def __contains__(self, item: Any) -> bool:
        return self._bridge.call("contains", obj=self, item=item)  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[Any]:
        iterator = self._bridge.call("iter", obj=self)
        if not isinstance(iterator, HandleProxy):
            raise ProtocolViolation("iter() did not return an iterator")
        return _batched(iterator)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HandleProxy) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __bool__(self) -> bool:
        raise TypeError(
            f"the truth of a {self._bridge_type} object from the submission is not "
            "checked; compare a plain value instead"
        )

    def __repr__(self) -> str:
        return f"<submission {self._bridge_type} #{self._bridge_id}>"

    def _key(self) -> tuple[int, int]:
        return (self._bridge_gen, self._bridge_id)


def _batched(iterator: HandleProxy) -> Iterator[Any]:
    """Fetch an iterator's items in batches, so a long iteration costs few round trips."""
    bridge = iterator._bridge
    while True:
        items, done = bridge.call("next", obj=iterator, n=_ITER_BATCH)
        yield from items
        if done:
            return


class BoundMethodProxy(RemoteObject):
    """A method of a submission object, called with one request."""

    def __init__(self, target: RemoteObject, name: str) -> None:
        self._target, self._name = target, name
        self._bridge, self._bridge_gen, self._bridge_cls = target._bridge, target._bridge_gen, 0

    def _bridge_ref(self) -> dict[str, Any]:
        return {"$m": [self._target._bridge_ref(), self._name]}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bridge = self._bridge
        return bridge.call(
            "callmethod", obj=self._target, name=self._name, args=list(args), kwargs=kwargs
        )

    def __repr__(self) -> str:
        return f"<method {self._name} of {self._target!r}>"


class EnumMemberProxy(RemoteObject):
    """A member of one of the submission's enums: equal to the same member, by class and name."""

    def __init__(
        self, bridge: Bridge, gen: int, hid: int, cls: int, cls_name: str, name: str, value: Any
    ) -> None:
        self._bridge, self._bridge_gen, self._bridge_cls = bridge, gen, cls
        self._id, self.name, self.value, self._cls_name = hid, name, value, cls_name

    def _bridge_ref(self) -> dict[str, Any]:
        self._bridge._check_generation(self._bridge_gen)
        return {"$h": self._id}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnumMemberProxy) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[int, int, str]:
        return (self._bridge_gen, self._bridge_cls, self.name)

    def __repr__(self) -> str:
        return f"<{self._cls_name}.{self.name}: {self.value!r}>"


class FollowingProxy(HandleProxy):
    """The submission's module: always addresses the current subject, across restarts."""

    __slots__ = ()

    def __init__(self, bridge: Bridge) -> None:
        super().__init__(bridge, 0, 0, 0, "module")

    def _current(self) -> HandleProxy:
        subject = self._bridge.subject
        subject.ensure_running()
        proxy = self._bridge.decode(subject.module_ref)
        assert isinstance(proxy, HandleProxy)
        return proxy

    def _bridge_ref(self) -> dict[str, Any]:
        return self._current()._bridge_ref()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name not in _REMOTE_DUNDERS:
            raise AttributeError(name)
        bridge = self._bridge
        key = (bridge.subject.generation, name)
        if key in bridge.module_attrs and bridge.subject.run is not None:
            return bridge.module_attrs[key]
        value = bridge.getattr(self._current(), name)
        if isinstance(value, RemoteObject | type):  # a class, function or exception class
            bridge.module_attrs[(bridge.subject.generation, name)] = value
        return value

    def __repr__(self) -> str:
        return "<submission module>"


def bridge_of(fn: Any) -> Bridge | None:
    """The bridge a callable or object from the submission's side belongs to, else ``None``."""
    if isinstance(fn, RemoteObject):
        return fn._bridge
    if (
        inspect.ismethod(fn)
        and isinstance(fn.__self__, HandleProxy)
        and fn.__name__ in _PASSABLE_DUNDERS
    ):
        return fn.__self__._bridge
    return None


class BridgeSide:
    """What the kit needs of isolated mode: which bridge a callable belongs to, and serving
    every live subject's calls to kit objects while a test waits (e.g. at a gate)."""

    def __init__(self, bridges: list[Bridge]) -> None:
        self.bridges = bridges

    def bridge_of(self, fn: Any) -> Bridge | None:
        """The bridge ``fn`` belongs to."""
        return bridge_of(fn)

    def pump(self, seconds: float) -> None:
        """Serve reverse calls of every running subject for about ``seconds``."""
        live = [b for b in self.bridges if b.subject.run is not None]
        for bridge in live:
            bridge.subject.pump(seconds / len(live))

    def end_test(self) -> None:
        """Forget the test's kit objects on every bridge."""
        for bridge in self.bridges:
            bridge.kit.end_test()
