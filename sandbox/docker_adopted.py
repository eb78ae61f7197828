"""A run over a container another process started: its channel socket, passed in.

A trusted program that outlives one caller (a resident reference solution, started by the
grader's long-lived process and lent to one harness child after another) is reached through
a duplicate of its channel socket's descriptor. The borrower talks to it, times it from its
cgroup and may kill it, but never ends it: :meth:`AdoptedRun.end` only lets go of the
borrowed descriptor, so the program and its owner's copy of the socket stay as they were.
Only ever lend a container in which nothing but trusted code has run.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable
from pathlib import Path

from sandbox.base import SandboxRun
from sandbox.bootstrap import READY
from sandbox.cgroup import read_cpu_counter
from sandbox.channel import OutputBuffer
from sandbox.docker_socket import DirectSocketChannel
from sandbox.models import SandboxJob, SandboxResult

CGROUP_ROOT = Path("/sys/fs/cgroup")
#: Where Docker puts a container's CPU counter: cgroup v1 (cgroupfs or systemd driver),
#: then cgroup v2.
CGROUP_CPU_FILES = (
    "cpuacct/docker/{id}/cpuacct.usage",
    "cpu,cpuacct/docker/{id}/cpuacct.usage",
    "cpuacct/system.slice/docker-{id}.scope/cpuacct.usage",
    "cpu,cpuacct/system.slice/docker-{id}.scope/cpuacct.usage",
    "system.slice/docker-{id}.scope/cpu.stat",
    "docker/{id}/cpu.stat",
)


def container_cpu_file(container_id: str, root: Path = CGROUP_ROOT) -> Path | None:
    """The CPU counter file of a running container, or ``None`` where it cannot be read."""
    for pattern in CGROUP_CPU_FILES:
        path = root / pattern.format(id=container_id)
        if path.exists():
            return path
    return None


class AdoptedRun(SandboxRun):
    """A borrowed run: ``fd`` is a descriptor of the program's channel socket (this run
    closes it, never the socket's other copies), ``container_id`` its container, ``kill`` how
    to stop the container if it must be killed (a hung call), which also tells the owner that
    the resident is gone. ``job`` gives the limits this borrower enforces: the wall-clock
    limit counts from the adoption."""

    def __init__(
        self, job: SandboxJob, container_id: str, fd: int, kill: Callable[[str], None]
    ) -> None:
        super().__init__(job)
        self.container_id = container_id
        self._kill_container = kill
        self._cpu_file = container_cpu_file(container_id)
        self._cpu: float | None = None
        # Not the channel's stdout buffer: a borrower reads every frame itself.
        self._socket = DirectSocketChannel(socket.socket(fileno=fd), OutputBuffer(4096), READY)
        self.killed = False
        self._begin()

    def _launch(self) -> None:
        """Nothing to start: the owner started the program."""

    def recv(self, n: int = 65536, timeout: float | None = None) -> bytes:
        """Up to ``n`` bytes of the program's output (see :meth:`SandboxRun.recv`)."""
        return self._socket.recv(n, timeout)

    def _write_stdin(self, data: bytes, timeout: float | None = None) -> None:
        self._socket.send(data, timeout)

    def _shut_stdin(self) -> None:
        """Never: an end of input would end the program, which is not this borrower's."""

    def _terminate(self) -> None:
        if self.done:
            return
        self.killed = True
        with contextlib.suppress(Exception):  # gone already, or the daemon is: still ours no more
            self._kill_container(self.container_id)
        self._socket.close()  # only now may the socket be shut: the program is being killed
        self._finish(exit_code=None, signal=None, cpu_time=self._cpu)

    def _sample(self) -> None:
        self.cpu_usage()

    def cpu_usage(self, settle: float = 0.0) -> float | None:
        """The container's cgroup CPU counter (see :meth:`SandboxRun.cpu_usage`)."""
        if self._cpu_file is not None:
            with contextlib.suppress(OSError, ValueError):
                self._cpu = read_cpu_counter(self._cpu_file, settle)
        return self._cpu

    def end(self, grace: float = 1.0) -> SandboxResult:
        """Let go of the borrowed descriptor; the program goes on running for its owner."""
        if not self.done:
            # Detached first: the socket object then holds no descriptor, so a later close of
            # the channel (a kill) neither shuts down the socket the owner shares nor reaches
            # a number reused meanwhile.
            with contextlib.suppress(OSError):
                os.close(self._socket.detach_socket())
            self._finish(exit_code=None, signal=None, cpu_time=self._cpu)
        return self._result()
