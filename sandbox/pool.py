"""A warm pool of one-use Docker sandboxes.

A pooled container is created with every hardening option, started, and left waiting at the
trusted bootstrap, which has read nothing yet: no job and no untrusted code was ever in it.
:meth:`WarmPool.claim` hands each one out exactly once (a pop under a lock, in the one process
that owns the pool); the run that takes it sends its job over the attach stream like any other,
and :meth:`WarmPool.discard` removes it afterwards. A container is never put back.

A background thread keeps ``size`` containers ready for each shape of limits asked for
recently, within a memory budget, and not beside a grading under way (the policy:
:mod:`sandbox.pool_plan`); it drops containers that died (a daemon restart kills them all),
replaces those idle longer than ``max_idle`` seconds, and retries with a pause while the daemon
is away. Every pooled container carries the reaper's labels, so a crash leaves nothing that the
next start does not remove.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.docker_container import create_container, create_with_channel
from sandbox.docker_socket import remove_channel_dir
from sandbox.limits import SandboxLimits
from sandbox.pool_plan import RefillPlan

log = logging.getLogger(__name__)

#: Label naming the pool a warm container belongs to (its value: the pool's id).
POOL_LABEL = "grader.sandbox.pool"
#: Pause after a daemon error before the refill thread tries again.
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class PoolStats:
    """What a pool holds and has done, for ``grader doctor`` and the service's metrics."""

    size: int
    ready: int
    handed_out: int
    created: int
    claims: int
    misses: int
    removed: int
    daemon_errors: int


@dataclass
class _Warm:
    """A ready container and when it was started."""

    id: str
    started: float


class WarmPool:
    """Containers started ahead of need, each handed to exactly one run.

    Args:
        api: A ``docker.APIClient`` (the caller checked the daemon and the image).
        image: Runner image of the containers.
        runtime: OCI runtime name, or ``None`` for the daemon's default.
        user: ``uid:gid`` the programs run as.
        size: How many ready containers to keep per shape of limits (0 disables the pool).
        memory_budget: Upper bound, in bytes, on the summed memory limits of ready containers.
        max_idle: A ready container older than this many seconds is replaced.
        socket_channel: Give each container a socket channel (:mod:`sandbox.docker_socket`).
    """

    def __init__(
        self,
        api: Any,
        image: str,
        runtime: str | None,
        user: str,
        *,
        size: int = 2,
        memory_budget: int = 2 << 30,
        max_idle: float = 300.0,
        socket_channel: bool = False,
    ) -> None:
        self.api, self.image, self.runtime, self.user = api, image, runtime, user
        self.size, self.memory_budget, self.max_idle = max(size, 0), memory_budget, max_idle
        self.id = secrets.token_hex(6)
        self.socket_channel = socket_channel
        #: The channel directory's token of each container that has one.
        self._tokens: dict[str, str] = {}
        self._ready: dict[SandboxLimits, deque[_Warm]] = {}
        self._plan = RefillPlan(self.size, memory_budget)
        self._handed: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        #: Removals under way on threads of their own (``discard``); ``close`` waits for them.
        self._removers: list[threading.Thread] = []
        self._counts = dict.fromkeys(("created", "claims", "misses", "removed", "daemon_errors"), 0)
        self._serial = itertools.count()
        self._thread = threading.Thread(target=self._refill_loop, name="warm-pool", daemon=True)
        self._thread.start()

    # -- handing out ---------------------------------------------------------

    def warm_up(self, limits: SandboxLimits) -> None:
        """Start keeping containers of ``limits`` ready (without claiming one)."""
        with self._lock:
            self._plan.want(limits)
        self._wake.set()

    def claim(self, limits: SandboxLimits) -> str | None:
        """A ready container for ``limits``, never handed out before; ``None`` when there is
        none (the caller creates one). The shape is kept warm from now on."""
        with self._lock:
            self._plan.want(limits)
            ready = self._ready.get(limits)
            warm = ready.popleft() if ready else None
            self._counts["claims"] += 1
            if warm is None:
                self._counts["misses"] += 1
            else:
                self._handed.add(warm.id)
        self._wake.set()
        return warm.id if warm is not None else None

    def hold_refills(self, seconds: float) -> Callable[[], None]:
        """Refill shapes only up to half their size for at most ``seconds`` (a grading under
        way, :mod:`sandbox.pool_plan`); call the result when it is over."""
        holds = self._plan.holds
        token = holds.hold(seconds)

        def release() -> None:
            holds.release(token)
            self._wake.set()

        return release

    def discard(self, container_ids: list[str] | set[str], wait: bool = False) -> None:
        """Remove containers this pool handed out, once their runs are over.

        Removal happens on a thread of its own unless ``wait``: the grading need not wait.
        """
        ids = [cid for cid in container_ids if cid]
        if not ids:
            return
        worker = threading.Thread(target=self._remove_all, args=(ids,), daemon=True)
        with self._lock:
            self._removers = [t for t in self._removers if t.is_alive()] + [worker]
        worker.start()
        if wait:
            worker.join()

    # -- state ---------------------------------------------------------------

    def stats(self) -> PoolStats:
        """Counts of what the pool holds and has done so far."""
        with self._lock:
            return PoolStats(
                size=self.size,
                ready=sum(len(q) for q in self._ready.values()),
                handed_out=len(self._handed),
                **self._counts,
            )

    def refilled(self) -> bool:
        """Whether the pool has nothing left to start: every shape it keeps is full (or the
        memory budget is)."""
        return self._most_needed() is None

    def close(self) -> None:
        """Stop refilling and remove every container of this pool, ready or handed out."""
        self._closed.set()
        self._wake.set()
        self._thread.join(timeout=30)
        # A removal in flight makes the daemon refuse a second one ("already in progress"):
        # wait for it, or a container would outlive the pool's close.
        with self._lock:
            removers, self._removers = self._removers, []
        for worker in removers:
            worker.join(timeout=30)
        with self._lock:
            ids = [w.id for q in self._ready.values() for w in q] + list(self._handed)
            self._ready.clear()
        self._remove_all(ids)
        # Whatever a crash in between left under this pool's label goes too.
        with contextlib.suppress(Exception):
            for item in self.api.containers(all=True, filters={"label": self._label()}):
                self._remove_all([item["Id"]])

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- refill thread ---------------------------------------------------------

    def _label(self) -> str:
        return f"{POOL_LABEL}={self.id}"

    def _refill_loop(self) -> None:
        """Keep the pool topped up until closed; daemon trouble only delays it."""
        while not self._closed.is_set():
            try:
                self._prune()
                if self._fill_one():
                    continue  # more may be needed: no wait
                wait = self._plan.wait_seconds()
            except Exception as exc:  # the daemon went away or refused: try again soon
                with self._lock:
                    self._counts["daemon_errors"] += 1
                log.debug("warm pool: %s", exc)
                self._closed.wait(RETRY_SECONDS)
                continue
            self._wake.wait(wait)
            self._wake.clear()

    def _fill_one(self) -> bool:
        """Start one container for the shape furthest below its target; ``False`` if none is."""
        limits = self._most_needed()
        if limits is None or self._closed.is_set():
            return False
        container_id = self._create(limits)
        try:
            self.api.start(container_id)
        except BaseException:
            self._remove_all([container_id])
            raise
        with self._lock:
            self._counts["created"] += 1
            if self._closed.is_set():
                closing = True
            else:
                closing = False
                self._ready.setdefault(limits, deque()).append(
                    _Warm(container_id, time.monotonic())
                )
        if closing:
            self._remove_all([container_id])
        return True

    def _create(self, limits: SandboxLimits) -> str:
        """Create one warm container (with a socket channel, if the daemon can mount it)."""
        labels = {POOL_LABEL: self.id, "grader.sandbox.pool.serial": str(next(self._serial))}
        args = (self.api, self.image, self.runtime, self.user, limits)
        if not self.socket_channel:
            return create_container(*args, labels=labels, idle_seconds=self.max_idle)
        container_id, channel, self.socket_channel = create_with_channel(
            *args, labels=labels, idle_seconds=self.max_idle
        )
        if channel is not None:
            with self._lock:
                self._tokens[container_id] = channel[0]
        return container_id

    def _most_needed(self) -> SandboxLimits | None:
        """The shape to start a container for next (:meth:`RefillPlan.most_needed`)."""
        with self._lock:
            return self._plan.most_needed({lim: len(q) for lim, q in self._ready.items()})

    def _prune(self) -> None:
        """Forget shapes nobody claims; drop ready containers that stopped (e.g. a daemon
        restart) or waited too long."""
        with self._lock:
            self._plan.forget_idle()
        running = {
            item["Id"]
            for item in self.api.containers(filters={"label": self._label(), "status": "running"})
        }
        now = time.monotonic()
        gone: list[str] = []
        with self._lock:
            for queue in self._ready.values():
                keep = [w for w in queue if w.id in running and now - w.started < self.max_idle]
                gone += [w.id for w in queue if w not in keep]
                queue.clear()
                queue.extend(keep)
        self._remove_all(gone)

    def _remove_all(self, ids: list[str]) -> None:
        """Remove containers (and their anonymous volumes); gone already is fine."""
        for container_id in ids:
            with contextlib.suppress(Exception):
                self.api.remove_container(container_id, v=True, force=True)
            with self._lock:
                self._handed.discard(container_id)
                self._counts["removed"] += 1
                token = self._tokens.pop(container_id, "")
            remove_channel_dir(token)
