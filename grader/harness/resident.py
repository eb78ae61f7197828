"""Resident references: the reference solution's sandbox kept running between gradings.

Complexity tests measure the reference beside the submission, in a sandbox of its own and
the same way. Starting and removing that sandbox for each grading cost about 0.19 s of CPU (a
container's life, an interpreter, the subject server's imports): a sixth of a warm grading.
The reference is trusted, and the only code that ever runs in its container, so a process
that grades many submissions (``grader validate``, a service worker) keeps it running and
lends it to one harness child at a time, as a duplicate of its channel socket's descriptor.
The child resets it (every handle and kit stand-in forgotten, as after a fresh import), uses
it, and resets it again before it ends (:meth:`grader.bridge.client.Subject.give_back`);
only a resident that answered that last reset as a fresh one does is lent again. Any other,
and one that served :data:`MAX_USES` gradings or :data:`LIFETIME` seconds, is removed.
Nothing of a submission ever runs in, or is sent code to, a resident.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from grader.bridge.client import Subject
from grader.bridge.errors import BridgeFailure
from grader.exercise import Exercise
from grader.harness.isolated import subject_job
from grader.harness.warm_link import limits_key
from sandbox import SandboxError, SandboxLimits

if TYPE_CHECKING:
    from sandbox.docker_backend import DockerRun, DockerSandbox
    from sandbox.pool import WarmPool

#: Gradings one resident serves, and seconds it lives, before a fresh one replaces it.
MAX_USES = 50
LIFETIME = 600.0
#: How long a resident's start may take (a cold container, the import).
BOOT_SECONDS = 30.0


@dataclasses.dataclass
class _Resident:
    """One reference serving in its container; ``subject`` is this process's end, used only
    to start it (the borrowers read and write its channel)."""

    key: str
    subject: Subject
    run: DockerRun
    booted: float
    uses: int = 0

    def fit(self, cpu_budget: float) -> bool:
        """Whether it may serve another grading."""
        cpu = self.run.cpu_usage() or 0.0
        return (
            not self.run.done
            and self.uses < MAX_USES
            and time.monotonic() - self.booted < LIFETIME
            and cpu < cpu_budget
        )


@dataclasses.dataclass(frozen=True)
class Lease:
    """A resident lent to one child: what its spec says (``spec``), and the descriptor the
    child must inherit (``fd``)."""

    resident: _Resident
    fd: int

    def spec(self) -> dict[str, Any]:
        """The child's view: the container and the descriptor number of its channel."""
        assert self.resident.run.container_id is not None
        return {"container": self.resident.run.container_id, "fd": self.fd}


def resident_limits(limits: SandboxLimits) -> SandboxLimits:
    """A resident's limits: a grading's, with a wall clock that outlasts its whole life."""
    return dataclasses.replace(limits, wall_timeout=LIFETIME + limits.wall_timeout)


class Residents:
    """The resident references of one process: at most ``capacity`` containers, booted in
    the background when a grading finds none idle for its exercise (that grading starts its
    own reference, as without residents)."""

    def __init__(self, pool: WarmPool, capacity: int = 2) -> None:
        self.pool, self.capacity = pool, max(capacity, 0)
        self._idle: list[_Resident] = []
        self._lent: set[int] = set()  # ids of lent residents
        self._booting: dict[str, int] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._backend: DockerSandbox | None = None
        self._threads: list[threading.Thread] = []  # boots and ends, for close to wait for
        self._threads_lock = threading.Lock()

    def lend(self, exercise: Exercise, limits: SandboxLimits) -> Lease | None:
        """An idle resident of ``exercise``'s reference, now lent; ``None`` if there is none
        (one is booted for the next grading, room permitting)."""
        if self.capacity == 0:
            return None
        source = exercise.reference_path.read_bytes()
        key = _key(exercise.module_name, source, limits)
        with self._lock:
            if self._closed:
                return None
            for resident in [r for r in self._idle if r.key == key]:
                self._idle.remove(resident)
                sock = resident.run.channel_socket()
                if sock is not None and resident.fit(limits.cpu_seconds / 2):
                    resident.uses += 1
                    self._lent.add(id(resident))
                    return Lease(resident, sock.fileno())
                self._retire(resident)
            self._make_room_locked(key, exercise.module_name, source, limits)
        return None

    def counts(self) -> tuple[int, int]:
        """How many residents wait to be lent, and how many are lent now."""
        with self._lock:
            return len(self._idle), len(self._lent)

    def idle_containers(self) -> list[str]:
        """The containers of the residents waiting to be lent."""
        with self._lock:
            return [r.run.container_id for r in self._idle if r.run.container_id]

    def give_back(self, lease: Lease, clean: bool) -> None:
        """The borrower ended: keep the resident if it left it clean, else remove it."""
        resident = lease.resident
        with self._lock:
            self._lent.discard(id(resident))
            if clean and not self._closed and not resident.run.done:
                self._idle.append(resident)
                return
        self._retire(resident)

    def close(self) -> None:
        """Remove every resident (those still booting are removed once up)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        with self._threads_lock:
            threads = list(self._threads)
        for resident in idle:
            resident.subject.close()
        for thread in threads:
            thread.join(timeout=BOOT_SECONDS + 5)

    def _count_locked(self) -> int:
        return len(self._idle) + len(self._lent) + sum(self._booting.values())

    def _make_room_locked(
        self, key: str, module: str, source: bytes, limits: SandboxLimits
    ) -> None:
        """Boot a resident for ``key``, retiring an idle one of another exercise if full."""
        if self._count_locked() >= self.capacity:
            others = [r for r in self._idle if r.key != key]
            if not others:
                return
            self._idle.remove(others[0])
            self._retire(others[0])
        self._booting[key] = self._booting.get(key, 0) + 1
        self._start(self._boot, (key, module, source, limits), "resident-boot")

    def _boot(self, key: str, module: str, source: bytes, limits: SandboxLimits) -> None:
        """Start a resident (on a thread of its own) and make it idle."""
        from sandbox.docker_backend import DockerRun

        resident: _Resident | None = None
        try:
            backend = self._docker()
            job = subject_job(module, source, resident_limits(limits))
            subject = Subject(lambda: backend.start(job), import_timeout=BOOT_SECONDS)
            subject.start()
            run = subject.run
            if isinstance(run, DockerRun) and run.channel_socket() is not None:
                resident = _Resident(key, subject, run, time.monotonic())
            else:
                subject.close()  # an attach stream cannot be lent
        except (BridgeFailure, SandboxError, OSError):
            resident = None  # the gradings start their own reference, as without residents
        with self._lock:
            self._booting[key] -= 1
            if resident is not None and not self._closed:
                self._idle.append(resident)
                return
        if resident is not None:
            resident.subject.close()

    def _docker(self) -> DockerSandbox:
        """This process's backend for residents (cold containers of the pool's kind)."""
        with self._lock:
            if self._backend is None:
                from sandbox.docker_backend import DockerSandbox

                pool = self.pool
                self._backend = DockerSandbox(
                    pool.image,
                    runtime=pool.runtime,
                    user=pool.user,
                    api=pool.api,
                    reap_leftovers=False,
                    socket_channel=pool.socket_channel,
                )
            return self._backend

    def _retire(self, resident: _Resident) -> None:
        """Remove a resident, on a thread of its own (a kill waits for the daemon)."""
        self._start(resident.subject.close, (), "resident-end")

    def _start(self, target: Callable[..., None], args: tuple[Any, ...], name: str) -> None:
        """Run ``target`` on a thread that ``close`` waits for."""
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._threads_lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        with contextlib.suppress(RuntimeError):  # at interpreter exit: nothing to start
            thread.start()


def _key(module: str, source: bytes, limits: SandboxLimits) -> str:
    """What a resident serves: this reference source, as this module, under these limits."""
    return f"{module}:{hashlib.sha256(source).hexdigest()}:{limits_key(limits)}"
