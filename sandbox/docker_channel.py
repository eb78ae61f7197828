"""The byte channel to a container: its attach socket, demultiplexed.

With ``tty=False`` Docker multiplexes stdout and stderr on the attach socket
as frames (an 8-byte header, then the payload); stdin goes the other way raw.
One reader thread per run demultiplexes with the Docker SDK's own frame reader
(``docker.utils.socket.frames_iter_no_tty``) into two capped buffers, so the
program can write a lot while the caller reads at its own pace.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any, cast

from docker.utils.socket import STDERR, STDOUT, frames_iter_no_tty

from sandbox.channel import OutputBuffer, ReadyGate, write_within
from sandbox.errors import ChannelClosed, SandboxTimeout


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
        """Demultiplex until the daemon ends the stream (container exit).

        The SDK's reader blocks in ``poll``/``recv``, which suits this thread: the
        timeouts are the caller's, on the buffers, and :meth:`close` wakes a blocked
        read by shutting the socket down. It reads at most one frame's payload at a
        time, and the daemon makes frames no larger than its copy buffer (32 KiB, seen
        with Docker 20.10), so memory stays bounded however much the program writes.
        It makes more system calls per small frame than parsing 64 KiB reads by hand
        did; the round-trip benchmark (bench/bench_sandbox.py) does not show it.
        """
        try:
            # The SDK's stubs allow str pieces; a socket's are always bytes.
            frames = cast(Iterator[tuple[int, bytes]], frames_iter_no_tty(self._sock))
            for stream, piece in frames:
                if stream == STDERR:
                    self._stderr.feed(piece)
                elif stream == STDOUT:
                    self.gate.feed(piece)
        except (OSError, ValueError):
            pass  # reset by the daemon, or the socket closed under a stuck read: the end
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
