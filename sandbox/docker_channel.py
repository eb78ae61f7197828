"""The byte channel to a container: its attach socket, demultiplexed.

With ``tty=False`` Docker multiplexes stdout and stderr on the attach socket
as frames (an 8-byte header, then the payload); stdin goes the other way raw.
One reader thread per run demultiplexes with the Docker SDK's own frame reader
(``docker.utils.socket.frames_iter_no_tty``) into two capped buffers, so the
program can write a lot while the caller reads at its own pace.

That module needs only the standard library, but importing it the usual way imports the
whole SDK first (``requests``, ``urllib3``: about 0.15 s in every harness child, which
otherwise needs no SDK for a warm container, see :mod:`sandbox.docker_lite`). So it is loaded
from its file by itself, and imported the usual way only if that fails.
"""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from sandbox.channel import OutputBuffer, ReadyGate, SocketChannelBase


def _sdk_socket_module() -> ModuleType:
    """``docker.utils.socket``, loaded from its file without the SDK around it."""
    try:
        package = importlib.util.find_spec("docker")  # finds the package; runs none of it
        if package is None or not package.submodule_search_locations:
            raise ImportError("the Docker SDK is not a package here")
        folder = next(iter(package.submodule_search_locations))
        spec = importlib.util.spec_from_file_location(
            "_docker_sdk_socket", Path(folder) / "utils" / "socket.py"
        )
        if spec is None or spec.loader is None:
            raise ImportError("no docker/utils/socket.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # its one package import (Windows pipes) is optional
        return module
    except Exception:  # another layout: the usual import
        import docker.utils.socket

        return docker.utils.socket


_SDK_SOCKET = _sdk_socket_module()
STDOUT: int = _SDK_SOCKET.STDOUT
STDERR: int = _SDK_SOCKET.STDERR
frames_iter_no_tty: Callable[[Any], Iterator[tuple[int, bytes]]] = _SDK_SOCKET.frames_iter_no_tty


def raw_socket(attached: Any) -> socket.socket:
    """The plain socket under docker-py's ``attach_socket`` wrapper, made blocking."""
    sock = getattr(attached, "_sock", attached)
    if not isinstance(sock, socket.socket):
        raise TypeError(f"unsupported attach socket type {type(sock).__name__}")
    # docker-py leaves the client's request timeout on it; a quiet program
    # must not look like a dead stream.
    sock.settimeout(None)
    return sock


class AttachChannel(SocketChannelBase):
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
        super().__init__(sock, "sandbox-attach")
        self._stdout = stdout
        self._stderr = stderr
        self.gate = ReadyGate(ready_marker, stdout)

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
            for stream, piece in frames_iter_no_tty(self._sock):
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
