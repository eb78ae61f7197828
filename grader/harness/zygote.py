"""The fork server: one process that imports pytest and the harness once, then forks every
harness child from itself, so no child pays for a fresh interpreter and its imports (0.2-0.3 s
of CPU per grading, measured: docs/performance.md).

Started by :class:`grader.harness.forks.ForkServer` as ``python -m grader.harness.zygote FD``,
with the harness children's environment; FD is its end of a ``SOCK_SEQPACKET`` socket pair.
Requests, one JSON message each with the child's stdin and output as file descriptors, then
those it keeps: ``{"id": n, "argv": ["-m", module, *args], "cwd": dir, "env": {...}, "keep":
[numbers]}`` (the environment's interpreter settings, ``PYTHON*``, are the server's own: the
same for every child; each kept descriptor gets the number the grader knows it by).
Answers: ``{"ready": pid}`` once loaded, ``{"id": n, "pid": pid}`` once forked,
``{"id": n, "exit": code, "cpu": seconds}`` once reaped (``code`` as ``subprocess`` gives it:
negative for a signal).

Only trusted code runs here: the grader's harness, never a submission (a submission runs in a
sandbox its harness child starts, or in direct mode, which is for trusted code, in the child).
The socket closing means the grader is gone: the server exits, and its children, which watch
it, run their cleanups and end as orphans.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import traceback
from typing import Any

from grader.harness import orphans

#: What every harness child imports, loaded once here (pytest's own plugins are added below).
PRELOAD = (
    "pytest",
    "grader.harness.child",
    "grader.harness.plugin",
    "grader.harness.isolated",
    "grader.harness.warm_link",
    "grader.bridge.client",
    "sandbox.docker_backend",
    "sandbox.process_backend",
    "pdb",  # pytest's debugging plugin imports it while configuring
)


#: The longest request read (a whole environment travels in each).
REQUEST_BYTES = 1 << 20
#: Descriptors a request may keep besides the child's stdin and output.
MAX_KEPT = 4


def preload() -> None:
    """Import what the children need, then freeze it: no child's collection walks it."""
    for name in PRELOAD:
        importlib.import_module(name)
    from _pytest.config import default_plugins, essential_plugins

    for plugin in (*essential_plugins, *default_plugins):
        with contextlib.suppress(ImportError):
            importlib.import_module(f"_pytest.{plugin}")
    gc.collect()
    gc.freeze()


def _send(control: socket.socket, message: dict[str, Any]) -> None:
    control.send(json.dumps(message).encode())


def _run_child(request: dict[str, Any], fds: list[int], closing: list[Any], server: int) -> None:
    """In the forked child: become the command the request names; never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for resource in closing:
            resource.close()
        os.setsid()  # a process group of its own, killed as one (as start_new_session did)
        stdin, output, *kept = fds
        os.dup2(stdin, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(stdin)
        os.close(output)
        # Kept descriptors under the numbers the grader knows them by (a lent resident's
        # channel, grader.harness.resident): what held such a number here was the server's.
        received = set(kept)
        for fd, number in zip(kept, request.get("keep", []), strict=True):
            if number in received and number != fd:
                raise OSError(f"descriptor {number} would overwrite another kept one")
            os.dup2(fd, number)
            if fd != number:
                os.close(fd)
        os.chdir(request["cwd"])
        sys.path[0] = request["cwd"]  # what ``python -m`` run there would have
        os.environ.clear()  # the grader's environment now, not when the server started
        os.environ.update(request["env"])
        orphans.PARENT = server
        flag, target, *args = request["argv"]
        sys.argv = [target if flag == "-m" else "-c", *args]
        if flag == "-m":
            # Run afresh as __main__, as ``python -m`` would (and without runpy's warning
            # about a module it finds imported already).
            sys.modules.pop(target, None)
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _reap(children: dict[int, int], control: socket.socket) -> None:
    """Report every child that ended (with its CPU time, its own children's included)."""
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        ident = children.pop(pid, None)
        if ident is not None:
            cpu = usage.ru_utime + usage.ru_stime
            _send(control, {"id": ident, "exit": os.waitstatus_to_exitcode(status), "cpu": cpu})


def serve(control: socket.socket) -> None:
    """Fork a child per request until the grader closes its end."""
    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)
    signal.set_wakeup_fd(wake_write.fileno(), warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the loop through the wakeup fd
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    children: dict[int, int] = {}
    _send(control, {"ready": os.getpid()})
    while True:
        for key, _ in selector.select():
            if key.fileobj is wake_read:
                with contextlib.suppress(BlockingIOError):
                    while wake_read.recv(512):
                        pass
                _reap(children, control)
                continue
            data, fds, _, _ = socket.recv_fds(control, REQUEST_BYTES, 2 + MAX_KEPT)
            if not data:
                return  # the grader is gone
            request = json.loads(data)
            server = os.getpid()  # before the fork: a child that finds another parent is orphaned
            pid = os.fork()
            if pid == 0:
                _run_child(request, fds, [selector, control, wake_read, wake_write], server)
            for fd in fds:
                os.close(fd)
            children[pid] = request["id"]
            _send(control, {"id": request["id"], "pid": pid})


def main(fd: int) -> None:
    """Load, then serve the grader on socket ``fd``."""
    control = socket.socket(fileno=fd)
    preload()
    with contextlib.suppress(ConnectionError, KeyboardInterrupt):
        serve(control)


if __name__ == "__main__":
    main(int(sys.argv[1]))
