"""The subject server: runs inside the sandbox, imports the submission once, and answers the
harness's requests. Stdlib-only, shipped into the sandbox next to the submission.

It keeps every non-plain object on this side and hands out handles. Requests are carried out
one at a time by the main thread, as :mod:`grader.bridge.protocol` describes; while one runs,
any thread of the submission may make reverse calls to kit objects that live in the harness.
Everything here belongs to the submission once it is imported: the harness trusts nothing this
process says beyond the plain values it decodes.
"""

from __future__ import annotations

import builtins
import collections
import enum
import gc
import importlib
import itertools
import os
import sys
import threading
from collections.abc import Callable

from grader.bridge import batches, protocol, stand_ins, wire
from grader.bridge.server_channel import Channel

TYPE_CHECKING = False  # typing's own flag would import typing: 3 ms of every sandbox's start
if TYPE_CHECKING:
    from typing import Any

#: Allocations between young-generation garbage collections, here and in the harness child
#: (Python's default is 700). Both sides make many short-lived objects per bridged call:
#: collecting every 700 cost a harness child 50-230 ms of CPU per grading. Only the child
#: also freezes what it loaded: frozen here, this server's objects would be hidden from
#: ``gc.get_objects``, no defence (``gc.unfreeze`` undoes it) but it blinded the tampering
#: checks, whose submissions find their targets that way (tests/integration/test_tampering.py).
GC_YOUNG_THRESHOLD = 7_000
#: The request that clears a resident reference's state between gradings (not in
#: :data:`~grader.bridge.protocol.OPERATIONS`: only the harness's own reference is sent it).
RESET = "reset"


def fewer_collections() -> None:
    """Collect the young generation less often (see :data:`GC_YOUNG_THRESHOLD`)."""
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def _builtin_base(cls: type) -> str:
    """The nearest builtin exception class in ``cls``'s MRO, by name."""
    for base in cls.__mro__:
        if base.__module__ == "builtins":
            return base.__name__
    return "Exception"


class Mailbox:
    """Frames from the harness for whichever thread waits: the main thread for requests, a
    thread in a reverse call for its reply. Whoever waits first reads; the others are woken
    when their frame arrives."""

    def __init__(self, channel: Channel, on_sync: Callable[[Any], None]) -> None:
        self._channel, self._on_sync = channel, on_sync
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._reading = self._closed = False
        self._requests: collections.deque[dict[str, Any]] = collections.deque()
        self._replies: dict[int, dict[str, Any]] = {}

    def send(self, message: dict[str, Any]) -> None:
        """Send one whole frame (threads never interleave theirs)."""
        with self._send_lock:
            self._channel.send(message)

    def next_request(self) -> dict[str, Any]:
        """The next request; ``EOFError`` once the harness has closed the channel."""
        return self._wait(self._requests.popleft, None)

    def reply_to(self, rid: int) -> dict[str, Any]:
        """The reply to reverse call ``rid``."""
        return self._wait(lambda: self._replies.pop(rid), rid)

    def _wait(self, take: Callable[[], dict[str, Any]], rid: int | None) -> dict[str, Any]:
        """The frame ``take`` finds queued (it raises ``LookupError`` while there is none), or
        the one this thread reads itself if it is the awaited one: a request when ``rid`` is
        ``None``, else the reply to ``rid``."""
        while True:
            with self._cond:
                while True:
                    try:
                        return take()
                    except LookupError:
                        pass
                    if self._closed:
                        raise EOFError
                    if not self._reading:
                        self._reading = True
                        break
                    self._cond.wait()
            try:
                message: dict[str, Any] | None = self._channel.receive()
            except (EOFError, OSError, wire.WireError):
                message = None
            with self._cond:
                self._reading = False
                self._cond.notify_all()  # another thread may read the channel now
                if message is None:
                    self._closed = True
                elif self._file(message, rid):
                    return message

    def _file(self, message: dict[str, Any], awaited: int | None) -> bool:
        """Apply the clock times a frame carries; whether it is the awaited frame (a request
        when ``awaited`` is ``None``, else the reply to ``awaited``), which is handed over at
        once; any other is queued for its reader."""
        if "sync" in message:
            self._on_sync(message["sync"])
        if message.get("hush") is True:
            self._channel.quiet(True)
            return False
        rid = message.get("rid")
        if type(rid) is int:
            if rid == awaited:
                return True
            self._replies[rid] = message
            return False
        self._channel.quiet(message.get("quiet") is True)
        if awaited is None:
            return True
        self._requests.append(message)
        return False


class Server:
    """Handles, kit stand-ins, the request dispatcher, and reverse calls."""

    def __init__(self, channel: Channel) -> None:
        self.mailbox = Mailbox(channel, self._sync)
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}
        self.kit: dict[int, Any] = {}
        self._rids = itertools.count(1)
        #: The imported module, handle 1 (set once the import succeeded).
        self.module: Any = None

    # -- references ------------------------------------------------------------

    def handle(self, obj: Any) -> int:
        """A stable handle id for ``obj``, keeping it alive."""
        key = id(obj)
        if key not in self.ids:
            self.ids[key] = len(self.objects) + 1
            self.objects[self.ids[key]] = obj
        return self.ids[key]

    def ref(self, obj: Any) -> dict[str, Any]:
        """Describe an object that stays here (or a kit stand-in, by its harness id)."""
        if isinstance(obj, stand_ins.KitStandIn):
            return {"$k": obj._kit_id}
        if isinstance(obj, type) and type(obj.__dict__.get("_kit_id")) is int:
            return {"$k": obj.__dict__["_kit_id"]}
        if isinstance(obj, enum.Enum):
            return {
                "$e": self.handle(type(obj)),
                "h": self.handle(obj),
                "n": obj.name,
                "c": type(obj).__name__,
                "v": self.encode(obj.value),
            }
        if isinstance(obj, type) and issubclass(obj, BaseException):
            return {"$x": self.handle(obj), "n": obj.__name__, "b": _builtin_base(obj)}
        return {"$h": self.handle(obj), "c": self.handle(type(obj)), "t": type(obj).__name__}

    def encode(self, value: Any) -> Any:
        """Encode a result for the harness."""
        return wire.encode(value, self.ref)

    def resolve(self, data: dict[str, Any]) -> Any:
        """Turn a reference from the harness back into the object."""
        if "$k" in data:
            return self._stand_in(data)
        if "$kb" in data:
            helper = batches.BATCH_HELPERS.get(data["$kb"])
            if helper is None:
                raise wire.WireError("unknown batch helper")
            return helper
        if "$m" in data:
            target, name = data["$m"]
            return getattr(self.resolve(target), wire.text(name))
        key = "$h" if "$h" in data else "$x" if "$x" in data else None
        if key is None or data[key] not in self.objects:
            raise wire.WireError("unknown object reference")
        return self.objects[data[key]]

    def decode(self, data: Any) -> Any:
        """Decode an argument from the harness."""
        return wire.decode(data, self.resolve)

    # -- kit stand-ins -----------------------------------------------------------

    def _stand_in(self, data: dict[str, Any]) -> Any:
        """The stand-in for a harness kit object, made on first sight from its description."""
        kit_id = wire.ident(data["$k"])
        if kit_id in self.kit:
            return self.kit[kit_id]
        kind = data.get("t")
        obj: Any
        if kind == "call":
            obj = stand_ins.KitCallable(kit_id, self.reverse, *_name_and_doc(data))
        elif kind == "script":
            steps = [self._step(step) for step in _list(data.get("steps"))]
            obj = stand_ins.KitScript(kit_id, self.report, *_name_and_doc(data), steps)
        elif kind == "sleep":
            clock = self.decode(data.get("clock"))
            if not isinstance(clock, stand_ins.KitClock):
                raise wire.WireError("a sleep needs its clock")
            obj = stand_ins.KitSleep(kit_id, self.reverse, clock)
        elif kind == "clock":
            now = data.get("now")
            if type(now) not in (int, float):
                raise wire.WireError("a clock needs its time")
            obj = stand_ins.KitClock(kit_id, float(now))  # type: ignore[arg-type]
        elif kind == "key":
            obj = stand_ins.KitKey(kit_id, self.reverse)
        elif kind == "exc":
            base = data.get("b")
            base_cls = (
                self.decode(base) if type(base) is dict else stand_ins.builtin_exception(str(base))
            )
            if not (isinstance(base_cls, type) and issubclass(base_cls, Exception)):
                raise wire.WireError("bad exception base")
            obj = stand_ins.exception_class(kit_id, wire.text(data.get("n", ""), 100), base_cls)
        else:
            raise wire.WireError("unknown kit object kind")
        self.kit[kit_id] = obj
        return obj

    def _step(self, step: Any) -> tuple[Any, ...]:
        """A script step from its description: what to return, or what to raise."""
        if type(step) is list and len(step) == 2 and step[0] == "return":
            return ("return", self.decode(step[1]))
        if type(step) is list and len(step) == 3 and step[0] == "raise":
            return ("raise", self._exception_class(step[1]), wire.text(step[2]))
        raise wire.WireError("bad script step")

    def _exception_class(self, raised: Any) -> type[BaseException]:
        """A kit exception class (by description) or a builtin one (by name)."""
        if type(raised) is dict:
            cls = self.decode(raised)
            if isinstance(cls, type) and issubclass(cls, BaseException):
                return cls
            raise wire.WireError("not an exception class")
        return stand_ins.builtin_exception(str(raised))

    def report(self, kit_id: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Tell the harness of a call a scripted callable answered itself."""
        self.mailbox.send(
            {"rec": kit_id, "args": self.encode(list(args)), "kwargs": self.encode(kwargs)}
        )

    def _sync(self, times: Any) -> None:
        """Copy the harness's clock times into the clock stand-ins."""
        if type(times) is not list:
            return
        for pair in times:
            if type(pair) is list and len(pair) == 2:
                clock = self.kit.get(pair[0])
                if isinstance(clock, stand_ins.KitClock) and type(pair[1]) in (int, float):
                    clock.now = float(pair[1])

    def reverse(
        self, kit_id: int, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Call ``method`` of harness kit object ``kit_id`` and return (or raise) its result."""
        rid = next(self._rids)
        self.mailbox.send(
            {
                "rid": rid,
                "k": kit_id,
                "m": method,
                "args": self.encode(list(args)),
                "kwargs": self.encode(kwargs),
            }
        )
        try:
            reply = self.mailbox.reply_to(rid)
        except EOFError:
            raise SystemExit(0) from None  # the harness is gone: nothing left to answer
        if "ok" in reply:
            return self.decode(reply["ok"])
        raise self._exception_class(reply.get("raise"))(wire.text(reply.get("msg", "")))

    # -- requests ------------------------------------------------------------------

    def describe_exception(self, exc: BaseException) -> dict[str, Any]:
        """An exception as data: type, whether builtin, its class reference, and message."""
        cls = type(exc)
        return {
            "type": cls.__name__,
            "builtin": cls.__module__ == "builtins"
            and getattr(builtins, cls.__name__, None) is cls,
            "cls": self.ref(cls),
            "msg": protocol.safe_text(str, exc),
        }

    def reset(self) -> dict[str, Any]:
        """Forget every handle and kit stand-in, as if freshly imported: a resident reference
        serves one grading after another (:mod:`grader.harness.resident`). Says the module's
        reference again, and how many threads run (one: nothing left of the last grading)."""
        self.objects.clear()
        self.ids.clear()
        self.kit.clear()
        gc.collect()
        return {"module": self.ref(self.module), "threads": threading.active_count()}

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        """Carry out one request and build its response."""
        response: dict[str, Any]
        if request.get("op") == RESET and self.module is not None:
            return {"ok": self.reset(), "id": request.get("id")}
        try:
            operation, arguments = protocol.decode_request(request, self.decode)
            response = {"ok": self.encode(operation.handler(**arguments))}
        except wire.WireError as exc:
            response = {"bridge_error": str(exc)[: protocol.TEXT_LIMIT]}
        except BaseException as exc:
            response = {"exc": self.describe_exception(exc)}
        response["id"] = request.get("id")
        return response

    def serve(self) -> None:
        """Answer requests until the harness closes the channel."""
        while self._serve_one():
            pass

    def _serve_one(self) -> bool:
        """Answer the next request; ``False`` once the channel is closed.

        The request and its response are freed when this returns, before the next wait: a
        batch's thousands of arguments and results once were freed inside the next request,
        and counted in its measured cost (``kit.cost``), about 0.5 ms after a large batch."""
        try:
            request = self.mailbox.next_request()
        except EOFError:
            return False
        response = self.respond(request)
        try:
            self.mailbox.send(response)
        except (wire.WireError, RecursionError, ValueError) as exc:
            self.mailbox.send(
                {
                    "id": request.get("id"),
                    "bridge_error": f"result cannot be sent: {exc}"[: protocol.TEXT_LIMIT],
                }
            )
        return True


def _name_and_doc(data: dict[str, Any]) -> tuple[str, str | None]:
    """A kit callable's ``__name__`` and ``__doc__`` from its description."""
    doc = data.get("doc")
    return wire.text(data.get("n", "kit"), 100), wire.text(doc) if doc is not None else None


def _list(value: Any) -> list[Any]:
    """``value`` if it is a non-empty list."""
    if type(value) is not list or not value:
        raise wire.WireError("expected a non-empty list")
    return value


def describe_import_error(exc: BaseException, module: str) -> dict[str, Any]:
    """An import failure as data, naming the submission's line where there is one."""
    import traceback  # only on this path: about 7 ms of every sandbox's start otherwise

    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.basename(frame.filename) == f"{module}.py":
            line = frame.lineno
    return {"type": type(exc).__name__, "message": protocol.safe_text(str, exc), "line": line}


def main() -> None:
    """Take the channel off stdin/stdout, import the submission, and serve."""
    module = sys.argv[-1]
    # The channel keeps private copies of fds 0 and 1; the submission's prints go to stderr.
    channel = Channel(os.dup(0), os.dup(1))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    # Unbuffered prints: a subject killed at a timeout must not lose what it printed.
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True, write_through=True)  # type: ignore[union-attr]
    # Small thread stacks: under an address-space limit, 8 MiB stacks allow only a few threads.
    threading.stack_size(512 * 1024)
    server = Server(channel)
    fewer_collections()
    try:
        loaded = importlib.import_module(module)
    except BaseException as exc:
        channel.send({"id": 0, "import_error": describe_import_error(exc, module)})
        return
    server.module = loaded
    channel.send({"id": 0, "ready": True, "module": server.ref(loaded)})
    server.serve()
    _end_now()


def _end_now() -> None:
    """The harness closed the channel: run the exit handlers, flush, and end the process
    without tearing the interpreter down (freeing a large structure object by object took
    20-60 ms of the end of every grading). Threads are not waited for."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 - contextlib costs the sandbox's start a millisecond
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


if __name__ == "__main__":
    main()
