"""The byte channel to a container: its attach socket, demultiplexed.

With ``tty=False`` Docker multiplexes stdout and stderr on the attach socket
as frames: an 8-byte header (stream id, 3 zero bytes, big-endian payload
size) then the payload. Stdin goes the other way raw. One reader thread per
run demultiplexes into two capped buffers, so the program can write a lot
while the caller reads at its own pace.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

from sandbox.channel import OutputBuffer, ReadyGate, write_within
from sandbox.errors import ChannelClosed, SandboxTimeout

STDOUT, STDERR = 1, 2
_HEADER = struct.Struct(">BxxxL")
_RECV_SIZE = 65536


class FrameDemuxer:
    """Incremental parser of the multiplexed stream; memory bounded by one read."""

    def __init__(self) -> None:
        self._header = bytearray()
        self._stream = 0
        self._remaining = 0

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        """Yield ``(stream_id, payload_piece)`` for the bytes in ``data``."""
        view = memoryview(data)
        while view:
            if self._remaining == 0:
                need = _HEADER.size - len(self._header)
                self._header += view[:need]
                view = view[need:]
                if len(self._header) < _HEADER.size:
                    return
                self._stream, self._remaining = _HEADER.unpack(self._header)
                self._header.clear()
                continue
            piece = view[: self._remaining]
            view = view[len(piece) :]
            self._remaining -= len(piece)
            yield self._stream, bytes(piece)

    @property
    def idle(self) -> bool:
        """True between frames (no partial header or payload pending)."""
        return not self._header and self._remaining == 0


def raw_socket(attached: Any) -> socket.socket:
    """The plain socket under docker-py's ``attach_socket`` wrapper, made blocking."""
    sock = getattr(attached, "_sock", attached)
    if not isinstance(sock, socket.socket):
        raise TypeError(f"unsupported attach socket type {type(sock).__name__}")
    # docker-py leaves the client's request timeout on it; a quiet program
    # must not look like a dead stream.
    sock.settimeout(None)
    return sock


class AttachChannel:
    """Reader thread plus stdin writer over one attach socket.

    The first stdout bytes must be ``ready_marker`` (written by the trusted
    bootstrap); :attr:`gate` strips them and signals readiness.
    """

    def __init__(
        self,
        sock: socket.socket,
        stdout: OutputBuffer,
        stderr: OutputBuffer,
        ready_marker: bytes,
    ) -> None:
        self._sock = sock
        self._stdout = stdout
        self._stderr = stderr
        self.gate = ReadyGate(ready_marker, stdout)
        self._send_lock = threading.Lock()
        self._write_closed = False
        self._thread = threading.Thread(target=self._read, name="sandbox-attach", daemon=True)

    def start(self) -> None:
        """Start the reader thread."""
        self._thread.start()

    def _read(self) -> None:
        """Demultiplex until the daemon ends the stream (container exit)."""
        demux = FrameDemuxer()
        try:
            while True:
                try:
                    data = self._sock.recv(_RECV_SIZE)
                except OSError:
                    break
                if not data:
                    break
                for stream, piece in demux.feed(data):
                    if stream == STDERR:
                        self._stderr.feed(piece)
                    elif stream == STDOUT:
                        self.gate.feed(piece)
        finally:
            self.gate.eof()
            self._stdout.close()
            self._stderr.close()

    def send(self, data: bytes, timeout: float | None = None) -> None:
        """Write to the program's stdin; ChannelClosed if it is gone or closed,
        SandboxTimeout if it could not all be written within ``timeout`` seconds."""
        with self._send_lock:
            if self._write_closed:
                raise ChannelClosed("stdin is closed")
            try:
                if timeout is None:
                    self._sock.sendall(data)
                else:
                    write_within(
                        lambda view: self._sock.send(view, socket.MSG_DONTWAIT),
                        self._sock.fileno(),
                        data,
                        timeout,
                    )
            except SandboxTimeout:
                raise
            except OSError as exc:
                raise ChannelClosed(f"program's stdin is gone: {exc}") from exc

    def close_write(self) -> None:
        """Half-close: the daemon closes the container's stdin (``StdinOnce``)."""
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
