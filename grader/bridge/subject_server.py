"""The subject server: runs inside the sandbox, imports the submission once, and answers the
harness's requests. Stdlib-only, shipped into the sandbox next to the submission.

It keeps every non-plain object on this side and hands out handles. It never calls into the
harness: it only answers, one request at a time, each with exactly one response.
"""

from __future__ import annotations

import builtins
import enum
import importlib
import os
import sys
import threading
import traceback
from typing import Any

from grader.bridge import wire
from grader.testkit import Kit

#: How much of an exception message or repr crosses back.
TEXT_LIMIT = 300
#: The most items one iteration batch may ask for.
MAX_BATCH = 4096


def _builtin_base(cls: type) -> str:
    """The nearest builtin exception class in ``cls``'s MRO, by name."""
    for base in cls.__mro__:
        if base.__module__ == "builtins":
            return base.__name__
    return "Exception"


def _safe_text(fn: Any, obj: Any) -> str:
    """``str``/``repr`` of a submission object, never raising."""
    try:
        text = fn(obj)
    except BaseException:
        return "<unprintable>"
    return text[:TEXT_LIMIT] if type(text) is str else "<unprintable>"


class Channel:
    """Whole frames over two raw file descriptors."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out

    def _read_exact(self, n: int) -> bytes:
        chunks, remaining = [], n
        while remaining:
            chunk = os.read(self.fd_in, remaining)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def receive(self) -> dict[str, Any]:
        """The next message from the harness."""
        length = wire.frame_length(self._read_exact(wire.HEADER_SIZE))
        return wire.parse(self._read_exact(length))

    def send(self, message: dict[str, Any]) -> None:
        """Send one message to the harness."""
        view = memoryview(wire.frame(message))
        while view:
            view = view[os.write(self.fd_out, view) :]


class Server:
    """Handles, the request dispatcher, and the encoding of results."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}

    def handle(self, obj: Any) -> int:
        """A stable handle id for ``obj``, keeping it alive."""
        key = id(obj)
        if key not in self.ids:
            self.ids[key] = len(self.objects) + 1
            self.objects[self.ids[key]] = obj
        return self.ids[key]

    def ref(self, obj: Any) -> dict[str, Any]:
        """Describe an object that stays here."""
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

    def describe_exception(self, exc: BaseException) -> dict[str, Any]:
        """An exception as data: type, whether builtin, its class reference, and message."""
        cls = type(exc)
        return {
            "type": cls.__name__,
            "builtin": cls.__module__ == "builtins"
            and getattr(builtins, cls.__name__, None) is cls,
            "cls": self.ref(cls),
            "msg": _safe_text(str, exc),
        }

    def dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        """Carry out one request and build its response."""
        op = request.get("op")
        target: Any = self.decode(request["obj"]) if "obj" in request else None
        args = self.decode(request.get("args", []))
        kwargs = self.decode(request.get("kwargs", {"$d": []}))
        if op == "getattr":
            name = wire.text(request["name"])
            value = getattr(target, name)
            if (
                getattr(value, "__self__", None) is target
                and callable(value)
                and not isinstance(target, type)
            ):
                return {"method": True}
            return {"ok": self.encode(value)}
        if op == "setattr":
            setattr(target, wire.text(request["name"]), args[0])
            return {"ok": None}
        if op == "call":
            return {"ok": self.encode(target(*args, **kwargs))}
        if op == "callmethod":
            method = getattr(target, wire.text(request["name"]))
            return {"ok": self.encode(method(*args, **kwargs))}
        if op == "len":
            return {"ok": len(target)}
        if op == "contains":
            return {"ok": args[0] in target}
        if op == "iter":
            return {"ok": self.encode(iter(target))}
        if op == "next":
            return self._next_batch(target, min(int(request.get("n", 1)), MAX_BATCH))
        if op in ("repr", "str"):
            return {"ok": _safe_text(repr if op == "repr" else str, target)}
        raise wire.WireError(f"unknown operation {op!r}")

    def _next_batch(self, iterator: Any, n: int) -> dict[str, Any]:
        """Up to ``n`` items from an iterator, and whether it is exhausted."""
        items = []
        for _ in range(n):
            try:
                items.append(next(iterator))
            except StopIteration:
                return {"ok": self.encode(items), "done": True}
        return {"ok": self.encode(items), "done": False}

    def serve(self) -> None:
        """Answer requests until the harness closes the channel."""
        while True:
            try:
                request = self.channel.receive()
            except EOFError:
                return
            response: dict[str, Any]
            try:
                response = self.dispatch(request)
            except wire.WireError as exc:
                response = {"bridge_error": str(exc)[:TEXT_LIMIT]}
            except BaseException as exc:
                response = {"exc": self.describe_exception(exc)}
            response["id"] = request.get("id")
            try:
                self.channel.send(response)
            except (wire.WireError, RecursionError, ValueError) as exc:
                self.channel.send(
                    {
                        "id": request.get("id"),
                        "bridge_error": f"result cannot be sent: {exc}"[:TEXT_LIMIT],
                    }
                )


def describe_import_error(exc: BaseException, module: str) -> dict[str, Any]:
    """An import failure as data, naming the submission's line where there is one."""
    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.basename(frame.filename) == f"{module}.py":
            line = frame.lineno
    return {"type": type(exc).__name__, "message": _safe_text(str, exc), "line": line}


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
    try:
        loaded = importlib.import_module(module)
    except BaseException as exc:
        channel.send({"id": 0, "import_error": describe_import_error(exc, module)})
        return
    channel.send({"id": 0, "ready": True, "module": server.ref(loaded), "kit": server.ref(Kit())})
    server.serve()


if __name__ == "__main__":
    main()
