"""The grader's end of the fork server (:mod:`grader.harness.zygote`): harness children forked
from a process that has pytest and the harness loaded, for callers that grade many submissions
in a row (``grader validate``, the service's workers).

A :class:`ForkedChild` offers what the supervisor uses of a ``subprocess.Popen``: ``pid``,
``stdin``, ``poll``, ``wait`` and ``returncode``. If the fork server cannot be had, ``spawn``
raises :class:`ForkServerLost` and the caller starts a fresh interpreter instead.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from grader.errors import GraderError
from grader.harness.launch import child_env

#: How long the fork server may take to load, and to answer a request.
START_SECONDS = 30.0
ANSWER_SECONDS = 10.0


class ForkServerLost(GraderError):
    """The fork server did not start, or stopped answering: start the child another way."""


class ForkedChild:
    """A harness child the fork server forked: the parts of ``Popen`` the supervisor uses."""

    def __init__(self, stdin: IO[bytes] | None) -> None:
        self.stdin = stdin
        self.pid = 0
        self.returncode: int | None = None
        self._forked = threading.Event()
        self._ended = threading.Event()

    def poll(self) -> int | None:
        """Its exit code once it ended (negative: the signal that ended it), else ``None``."""
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Block until it ended; its exit code."""
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"forked child {self.pid}", timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def pause(self, seconds: float) -> None:
        """Wait up to ``seconds``, less if it ends meanwhile (the supervisor's look between
        two reads of the results file then comes at once, not up to a pause later)."""
        self._ended.wait(seconds)

    def _end(self, code: int) -> None:
        self.returncode = code
        self._forked.set()
        self._ended.set()


class ForkServer:
    """One fork server process, started on first use and again after it was lost."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._children: dict[int, ForkedChild] = {}
        self._next_id = 0
        #: CPU seconds of every child that ended (benchmarks add it to their children's).
        self.children_cpu = 0.0

    @property
    def pid(self) -> int | None:
        """The fork server's process id while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def warm_up(self) -> None:
        """Start the fork server in the background, so that the first child need not wait
        for its imports (a failed start is retried, and reported, by ``spawn``)."""

        def start() -> None:
            with self._lock, contextlib.suppress(ForkServerLost):
                self._running()

        threading.Thread(target=start, daemon=True, name="fork-server-start").start()

    def spawn(
        self, argv: list[str], cwd: Path, output: int, stdin: bool, keep: tuple[int, ...] = ()
    ) -> ForkedChild:
        """Fork a child that runs ``argv`` (``["-m", module, *args]``, as after ``python``)
        in ``cwd``, writing to the file descriptor ``output``, with a pipe on its stdin if
        ``stdin`` (else nothing to read), and this process's descriptors ``keep`` under the
        same numbers."""
        read_end, write_end = os.pipe() if stdin else (os.open(os.devnull, os.O_RDONLY), -1)
        child = ForkedChild(open(write_end, "wb") if stdin else None)  # noqa: SIM115 - the caller's
        try:
            with self._lock:
                control = self._running()
                self._next_id += 1
                ident = self._next_id
                self._children[ident] = child
                request = {
                    "id": ident,
                    "argv": argv,
                    "cwd": str(cwd),
                    "env": child_env(),
                    "keep": list(keep),
                }
                fds = [read_end, output, *keep]
                try:
                    socket.send_fds(control, [json.dumps(request).encode()], fds)
                except OSError as exc:
                    self._children.pop(ident, None)
                    raise ForkServerLost(f"the fork server stopped answering: {exc}") from exc
        except BaseException:
            if child.stdin is not None:
                child.stdin.close()
            raise
        finally:
            os.close(read_end)
        if not child._forked.wait(ANSWER_SECONDS):
            self._lose(f"no fork within {ANSWER_SECONDS:g} s")
        if not child.pid:
            raise ForkServerLost("the fork server stopped before it forked the child")
        return child

    def _running(self) -> socket.socket:
        """The control socket of a fork server that is up (started now if need be)."""
        if self._control is not None and self._proc is not None and self._proc.poll() is None:
            return self._control
        self._forget()  # a server that died before its listener noticed takes its children
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "grader.harness.zygote", str(theirs.fileno())],
                env=child_env(),
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C is the grader's to handle, not the server's
                cwd="/",
            )
        finally:
            theirs.close()
        ours.settimeout(START_SECONDS)
        try:
            ready = json.loads(ours.recv(1 << 16) or b"{}")
        except (OSError, ValueError) as exc:
            ready = {"error": str(exc)}
        if "ready" not in ready:
            ours.close()
            self._stop_process()
            raise ForkServerLost(f"the fork server did not start: {ready}")
        ours.settimeout(None)
        self._control = ours
        threading.Thread(target=self._listen, args=(ours,), daemon=True).start()
        return ours

    def _listen(self, control: socket.socket) -> None:
        """Take the fork server's answers until it is gone."""
        while True:
            try:
                data = control.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            message: dict[str, Any] = json.loads(data)
            with self._lock:
                child = self._children.get(message["id"])
                if child is None:
                    continue
                if "pid" in message:
                    child.pid = message["pid"]
                    child._forked.set()
                else:
                    del self._children[message["id"]]
                    self.children_cpu += message["cpu"]
                    child._end(message["exit"])
        self._lose("the fork server ended", control)

    def _lose(self, why: str, control: socket.socket | None = None) -> None:
        """Forget a fork server that is gone (``control``: the listener of that server saw
        it end; otherwise raise ``ForkServerLost`` with ``why``)."""
        with self._lock:
            if control is not None and control is not self._control:
                return  # an older server, already forgotten
            self._forget()
        if control is None:
            raise ForkServerLost(why)

    def _forget(self) -> None:
        """With the lock held: stop the current fork server, and kill and end its children
        (their ends can no longer be reported: a waiter would wait for ever)."""
        orphaned, self._children = self._children, {}
        if self._control is not None:
            _hang_up(self._control)
        self._control = None
        self._stop_process()
        for child in orphaned.values():
            if child.pid:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.pid, signal.SIGKILL)
            child._end(-signal.SIGKILL)

    def _stop_process(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        """Stop the fork server, and any child of it still running."""
        with self._lock:
            if self._control is not None:
                _hang_up(self._control)  # the server reads the end of it and exits
                self._control = None
            if self._proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=5)
            self._forget()


def _hang_up(control: socket.socket) -> None:
    """Close our end so that both the server and our listening thread see its end (a plain
    close leaves the socket open while the listener waits in ``recv``)."""
    with contextlib.suppress(OSError):
        control.shutdown(socket.SHUT_RDWR)
    control.close()


_shared: ForkServer | None = None
_shared_lock = threading.Lock()


def shared_fork_server() -> ForkServer:
    """This process's fork server (made on first use, stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ForkServer()
            atexit.register(_shared.close)
        return _shared
