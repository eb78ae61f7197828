"""A capped, thread-safe byte buffer between a reader thread and the caller, and the writing
end shared by the channels over one socket."""

from __future__ import annotations

import abc
import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable

from sandbox.errors import ChannelClosed, SandboxTimeout


def write_within(write: Callable[[memoryview], int], fd: int, data: bytes, timeout: float) -> None:
    """Write all of ``data`` with a non-blocking ``write``, waiting for ``fd`` to become
    writable, for at most ``timeout`` seconds in all; SandboxTimeout past that (with how
    much was written)."""
    deadline = time.monotonic() + timeout
    view = memoryview(data)
    while view:
        try:
            view = view[write(view) :]
            continue
        except BlockingIOError:
            pass
        left = deadline - time.monotonic()
        if left <= 0:
            error = SandboxTimeout(f"the program did not read its input within {timeout:g} s")
            error.written = len(data) - len(view)
            raise error
        select.select([], [fd], [], left)


class OutputBuffer:
    """Bytes from one program stream, fed by a reader thread, read by the caller.

    With ``lifetime=True`` the buffer accepts at most ``cap`` bytes over its
    whole life; otherwise at most ``cap`` bytes *waiting to be read*, so a
    channel that the caller keeps draining can carry any amount. Either way the
    memory it holds is bounded however much the program writes. Past the cap it
    drops the excess, sets :attr:`truncated` and calls ``on_overflow`` once
    (backends use that to stop the program). Nothing accepted is ever lost: it
    is returned by :meth:`read` or :meth:`take_all`.
    """

    def __init__(
        self, cap: int, on_overflow: Callable[[], None] | None = None, *, lifetime: bool = True
    ) -> None:
        self._cap = cap
        self._lifetime = lifetime
        self._on_overflow = on_overflow
        self._data = bytearray()
        self._accepted = 0
        self._eof = False
        self.truncated = False
        self._cond = threading.Condition()

    @property
    def accepted(self) -> int:
        """Bytes accepted so far (read or not)."""
        return self._accepted

    def feed(self, data: bytes) -> None:
        """Append bytes from the program (reader thread side)."""
        overflow = False
        with self._cond:
            if self.truncated:
                return  # past the cap nothing more is taken: the stream would be spliced
            room = self._cap - (self._accepted if self._lifetime else len(self._data))
            if len(data) > room:
                data = data[: max(room, 0)]
                overflow = not self.truncated
                self.truncated = True
            if data:
                self._data += data
                self._accepted += len(data)
                self._cond.notify_all()
        # Called outside the lock: the callback may block (e.g. a Docker kill).
        if overflow and self._on_overflow is not None:
            self._on_overflow()

    def close(self) -> None:
        """Mark end of stream; readers get ``b""`` once the buffer is empty."""
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        """True once the stream has ended."""
        return self._eof

    def read(self, n: int, timeout: float | None = None) -> bytes:
        """Return 1..n buffered bytes, waiting up to ``timeout`` seconds for some.

        Returns ``b""`` at end of stream. Raises :class:`SandboxTimeout` if no
        byte arrived in time (``timeout=None`` waits until data or EOF).
        """
        if n <= 0:
            raise ValueError("n must be positive")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._data and not self._eof:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise SandboxTimeout(f"no output within {timeout} s")
                self._cond.wait(remaining)
            chunk = bytes(self._data[:n])
            del self._data[:n]
            return chunk

    def take_all(self) -> bytes:
        """Remove and return everything buffered now."""
        with self._cond:
            data = bytes(self._data)
            self._data.clear()
            return data


class ReadyGate:
    """Strips the bootstrap's READY marker from the head of stdout.

    Bytes before the marker come from trusted code; everything after it is
    the program's and goes to ``out``. If the stream starts with anything
    else, the bootstrap failed: :attr:`ok` stays False and the bytes go to
    ``out`` for diagnostics.
    """

    def __init__(self, marker: bytes, out: OutputBuffer) -> None:
        self._marker = marker
        self._out = out
        self._prefix = bytearray()
        self.ready = threading.Event()
        self.ok = False

    def feed(self, piece: bytes) -> None:
        """Pass a piece of stdout through."""
        if self.ready.is_set():
            self._out.feed(piece)
            return
        self._prefix += piece
        if len(self._prefix) < len(self._marker) and self._marker.startswith(self._prefix):
            return  # marker not complete yet
        self.ok = self._prefix.startswith(self._marker)
        rest = self._prefix[len(self._marker) :] if self.ok else self._prefix
        self._prefix = bytearray()
        self.ready.set()
        if rest:
            self._out.feed(bytes(rest))

    def eof(self) -> None:
        """The stream ended; release anyone waiting for READY."""
        if not self.ready.is_set():
            self._out.feed(bytes(self._prefix))
            self.ready.set()


class SocketChannelBase(abc.ABC):
    """A program's stdin over one socket, and a reader thread (``_read``) for what comes back."""

    def __init__(self, sock: socket.socket, thread_name: str) -> None:
        self._sock = sock
        self._send_lock = threading.Lock()
        self._write_closed = False
        self._thread = threading.Thread(target=self._read, name=thread_name, daemon=True)

    @abc.abstractmethod
    def _read(self) -> None:
        """Read until the stream ends (on the reader thread)."""

    def send(self, data: bytes, timeout: float | None = None) -> None:
        """Write to the program's stdin; ChannelClosed if it is gone or closed,
        SandboxTimeout if it could not all be written within ``timeout`` seconds."""
        with self._send_lock:
            if self._write_closed:
                raise ChannelClosed("stdin is closed")
            try:
                if timeout is None:
                    self._sock.sendall(data)
                    return
                try:  # a frame usually fits the socket's buffer: one write, no wait
                    sent = self._sock.send(data, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    sent = 0
                if sent < len(data):
                    try:
                        write_within(
                            lambda view: self._sock.send(view, socket.MSG_DONTWAIT),
                            self._sock.fileno(),
                            data[sent:],
                            timeout,
                        )
                    except SandboxTimeout as exc:
                        exc.written = sent + (exc.written or 0)
                        raise
            except SandboxTimeout:
                raise
            except OSError as exc:
                raise ChannelClosed(f"program's stdin is gone: {exc}") from exc

    def close_write(self) -> None:
        """Half-close: the program reads EOF (with attach, the daemon closes its stdin)."""
        with self._send_lock:
            if self._write_closed:
                return
            self._write_closed = True
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)

    def close(self, timeout: float = 5.0) -> None:
        """Wait for the reader to finish, then close the socket (wakes a stuck reader)."""
        self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(1.0)
        self._sock.close()
