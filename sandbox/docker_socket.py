"""A faster channel to a container: a Unix socket passed in through a read-only bind mount.

The attach stream goes through the daemon and its shim (about 0.3 ms a round trip); a Unix
socket between the host and the container costs about a fifth of that, which matters to the
tests that make thousands of calls. How it stays safe (docs/security.md):

- Each container gets a directory of its own, ``<base>/<token>``, bind-mounted read-only at
  :data:`MOUNT_POINT`; ``<base>`` is private to this user (mode 0700), so no other host user
  can reach a socket in it. The container can create nothing there.
- The host listens on ``<token>/s`` only while the trusted bootstrap starts, and removes the
  socket and the directory as soon as the bootstrap connected, before any untrusted code ran.
  Only the bootstrap's two connections are ever accepted; a program can never open another.
- The bootstrap puts the first connection on the program's stdin and stdout, so the program
  sees the same channel it would have over the attach stream, and the second on its stderr:
  both end when the program does, without waiting for the daemon to notice that the container
  stopped (about 60 ms), which lets a warm run end early (``DockerRun.end``). The container's
  exit, and what the bootstrap prints before it connects, still come over the attach stream.

Docker creates nothing on the host for this: a missing directory fails the container's
creation, and the backend then falls back to the attach stream (e.g. a daemon on another
machine, whose filesystem does not have ``<base>``).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import select
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sandbox.bootstrap import CHANNEL_SOCKET
from sandbox.channel import OutputBuffer, ReadyGate, SocketChannelBase
from sandbox.errors import SandboxTimeout
from sandbox.polling import Poller

#: Where the container sees its channel directory, and the socket's name in it.
MOUNT_POINT, SOCKET_NAME = posixpath.split(CHANNEL_SOCKET)
#: The label that names a container's channel directory (for a warm container's user).
CHANNEL_LABEL = "grader.sandbox.channel"


def channel_base() -> Path:
    """This user's directory of channel directories."""
    return Path(f"/tmp/hidden-grader-channels-{os.getuid()}")


def new_channel_dir() -> tuple[str, Path] | None:
    """A fresh, empty channel directory: its token and its path; ``None`` if this user's base
    cannot be used (e.g. another user made it first, or ``/tmp`` is full): the caller uses the
    attach stream then."""
    base = channel_base()
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        if base.is_symlink() or base.stat().st_uid != os.getuid():
            return None  # not ours: someone else could reach the sockets in it
        os.chmod(base, 0o700)  # whatever the umask or an earlier run left
        token = uuid.uuid4().hex
        path = base / token
        path.mkdir(mode=0o755)
        os.chmod(path, 0o755)  # the sandbox user must reach the socket in it
    except OSError:
        return None
    return token, path


def remove_channel_dir(token: str) -> None:
    """Remove a channel directory (gone already is fine)."""
    if _is_token(token):
        shutil.rmtree(channel_base() / token, ignore_errors=True)


def prune_channel_dirs(live_tokens: set[str], min_age: float = 600.0) -> None:
    """Remove channel directories that no live container names and that are older than
    ``min_age`` seconds (a run about to create its container has one for a moment)."""
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in channel_base().iterdir():
            with contextlib.suppress(OSError):
                if entry.name not in live_tokens and now - entry.lstat().st_mtime > min_age:
                    shutil.rmtree(entry, ignore_errors=True)


def socket_channel_wanted(api: Any, runtime: str | None) -> bool:
    """Whether runs should use a socket channel: the daemon shares this machine's files (a
    local Unix socket) and runs containers with its default runtime (gVisor would need its
    host-UDS option)."""
    return runtime is None and str(getattr(api, "base_url", "")).startswith("http+docker://")


def is_mount_refused(exc: BaseException) -> bool:
    """Whether the daemon refused a container because it cannot see the channel directory."""
    text = str(exc).lower()
    return "bind source path does not exist" in text or "invalid mount config" in text


def warm_channel_dir(api: Any, container_id: str) -> Path | None:
    """The channel directory of a warm container (``None`` if it was made without one)."""
    labels = api.inspect_container(container_id).get("Config", {}).get("Labels") or {}
    token = labels.get(CHANNEL_LABEL, "")
    path = channel_base() / token
    return path if _is_token(token) and path.is_dir() else None


def _is_token(token: str) -> bool:
    return len(token) == 32 and all(c in "0123456789abcdef" for c in token)


class Listener:
    """The host's end while the bootstrap starts: its two connections accepted, then nothing."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / SOCKET_NAME
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(self.path))
        os.chmod(self.path, 0o666)  # the sandbox user connects; the 0700 base keeps others out
        self._sock.listen(2)

    def accept(
        self, deadline: float, gave_up: threading.Event
    ) -> tuple[socket.socket, socket.socket] | None:
        """The bootstrap's two connections, in the order it made them (the channel, then
        stderr), or ``None`` if they did not both come before ``deadline`` or ``gave_up`` was
        set (the bootstrap ended first), or if the listener was closed meanwhile. Closes the
        listener either way."""
        taken: list[socket.socket] = []
        try:
            while len(taken) < 2 and not gave_up.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    if select.select([self._sock], [], [], min(left, 0.05))[0]:
                        conn, _ = self._sock.accept()
                        conn.setblocking(True)
                        taken.append(conn)
                except (OSError, ValueError):
                    if self._sock.fileno() != -1:
                        raise
                    break  # closed meanwhile: the run ended (``DockerRun._watch_exit``)
            if len(taken) == 2:
                return taken[0], taken[1]
            for conn in taken:
                conn.close()
            return None
        finally:
            self.close()

    def close(self) -> None:
        """Stop listening and remove the socket and its directory."""
        self._sock.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class ErrorStream:
    """The program's stderr over the bootstrap's second connection, fed to ``stderr`` by a
    reader thread; :attr:`ended` is set when the program closed it (or died)."""

    def __init__(self, sock: socket.socket, stderr: OutputBuffer) -> None:
        self._sock, self._stderr = sock, stderr
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._read, name="sandbox-stderr", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while piece := self._sock.recv(65536):
                self._stderr.feed(piece)
        except OSError:
            pass  # reset, or closed under the read by close()
        finally:
            self.ended.set()

    def close(self) -> None:
        """Stop reading (a stuck reader wakes up) and close the socket."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(1.0)
        self._sock.close()


class SocketChannel(SocketChannelBase):
    """Reader thread plus writer over the accepted socket: the program's stdin and stdout."""

    def __init__(self, sock: socket.socket, stdout: OutputBuffer, ready_marker: bytes) -> None:
        super().__init__(sock, "sandbox-socket")
        self._stdout = stdout
        self.gate = ReadyGate(ready_marker, stdout)
        self._thread.start()

    def _read(self) -> None:
        """Feed stdout until the program closes its end (or dies)."""
        try:
            while True:
                piece = self._sock.recv(65536)
                if not piece:
                    break
                self.gate.feed(piece)
        except OSError:
            pass  # reset, or closed under the read by close()
        finally:
            self.gate.eof()
            self._stdout.close()


class DirectSocketChannel(SocketChannelBase):
    """The accepted socket with no reader thread, for a caller that reads the program's
    output as it comes (``SandboxJob.caller_reads``): :meth:`recv` reads the socket itself,
    which saves a thread hand-off on every round trip (about 0.04 ms of 0.11), and polls
    briefly before it blocks (:mod:`sandbox.polling`). Output
    left unread at the end is not kept; a program whose output nobody reads waits for it."""

    def __init__(self, sock: socket.socket, stdout: OutputBuffer, ready_marker: bytes) -> None:
        super().__init__(sock, "sandbox-socket")  # the thread is never started
        self._stdout = stdout
        self.gate = ReadyGate(ready_marker, stdout)
        self._pending = b""
        self._eof = False
        self._recv_lock = threading.Lock()
        self._poller = Poller()

    def _read(self) -> None:
        """Never run: the caller reads (see :meth:`recv`)."""

    def read_ready(self, deadline: float, gave_up: threading.Event) -> None:
        """Read the bootstrap's READY marker through :attr:`gate` (given up at ``deadline``,
        at the end of the stream, or once ``gave_up`` is set: the gate then says not ok)."""
        while not self.gate.ready.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or gave_up.is_set():
                self.gate.eof()
                break
            if select.select([self._sock], [], [], min(left, 0.05))[0]:
                try:
                    piece = self._sock.recv(65536)
                except OSError:
                    piece = b""
                if not piece:
                    self.gate.eof()
                    break
                self.gate.feed(piece)
        if self.gate.ok:
            self._pending = self._stdout.take_all()  # what came with READY is the program's

    def recv(self, n: int, timeout: float | None = None) -> bytes:
        """Up to ``n`` bytes of the program's output, waiting up to ``timeout`` seconds
        (``SandboxTimeout`` if none came); ``b""`` at the end of the stream."""
        with self._recv_lock:
            if self._pending:
                chunk, self._pending = self._pending[:n], self._pending[n:]
                return chunk
            if self._eof:
                return b""
            try:
                data = self._poller.poll(lambda: self._sock.recv(n, socket.MSG_DONTWAIT), timeout)
                readable = data is not None
                if data is None:
                    readable = bool(select.select([self._sock], [], [], timeout)[0])
                    data = self._sock.recv(n) if readable else b""
            except (OSError, ValueError):  # reset, or closed by close()
                readable, data = True, b""
            if not readable:
                raise SandboxTimeout(f"no output within {timeout} s")
            self._eof = not data
            return data

    @property
    def socket(self) -> socket.socket:
        """The channel's socket."""
        return self._sock

    def detach_socket(self) -> int:
        """Stop using the socket without shutting it down (another process may hold a copy):
        its descriptor, for the caller to close; reads see the end from now on."""
        with self._recv_lock:
            self._eof = True
            return self._sock.detach()

    def close(self, timeout: float = 5.0) -> None:
        """Wake a waiting :meth:`recv` (it sees the end), then close the socket."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with self._recv_lock:
            self._eof = True
            self._sock.close()
