"""One warm sandbox pool per process, for the callers that grade many submissions in a row."""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sandbox import SandboxBackend
from sandbox.limits import MiB

if TYPE_CHECKING:
    from grader.harness.resident import Residents
    from sandbox.pool import PoolStats, WarmPool


@dataclass(frozen=True)
class WarmPoolSettings:
    """How big a warm pool may be: ready containers per shape of limits, and a memory budget
    (the summed memory limits of the ready containers, in MB)."""

    #: Two gradings' worth (a submission's sandbox and the reference's): one grading's claims
    #: leave the pool able to serve another, so refills can wait for the first to end.
    size: int = 4
    memory_mb: int = 2048
    #: Resident reference sandboxes kept between gradings (``grader.harness.resident``):
    #: containers besides the pool's, each with a subject's memory limit; 0 turns them off.
    residents: int = 2


_pools: dict[tuple[str, str | None], WarmPool] = {}
_residents: dict[int, Residents] = {}
_lock = threading.Lock()


def shared_pool(backend: SandboxBackend, settings: WarmPoolSettings) -> WarmPool | None:
    """This process's pool for ``backend``'s image and runtime (made on first use); ``None``
    for a backend that has no warm sandboxes (only Docker has)."""
    if backend.name != "docker":
        return None
    from sandbox.docker_backend import DockerSandbox
    from sandbox.pool import WarmPool

    if not isinstance(backend, DockerSandbox):  # a stand-in (tests): nothing to warm
        return None
    key = (backend.image, backend.runtime)
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = WarmPool(
                backend.api,
                backend.image,
                backend.runtime,
                backend.user,
                size=settings.size,
                memory_budget=settings.memory_mb * MiB,
                socket_channel=backend.socket_channel,
            )
            if not _pools:
                atexit.register(close_pools)  # Ctrl-C included; a crash is the reaper's
            _pools[key] = pool
        return pool


def shared_residents(pool: WarmPool, settings: WarmPoolSettings) -> Residents | None:
    """This process's resident references beside ``pool`` (made on first use; closed with
    the pools); ``None`` when the settings keep none."""
    if settings.residents <= 0:
        return None
    from grader.harness.resident import Residents

    with _lock:
        residents = _residents.get(id(pool))
        if residents is None:
            residents = _residents[id(pool)] = Residents(pool, settings.residents)
        return residents


def pool_stats() -> list[PoolStats]:
    """The stats of every pool of this process (for metrics)."""
    with _lock:
        return [pool.stats() for pool in _pools.values()]


def resident_counts() -> tuple[int, int]:
    """Resident references of this process waiting to be lent, and lent now (for metrics)."""
    with _lock:
        counts = [residents.counts() for residents in _residents.values()]
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def pools_refilled() -> bool:
    """Whether every pool of this process has nothing left to start (benchmarks wait for it
    between gradings, as the pools do between submissions)."""
    with _lock:
        pools = list(_pools.values())
    return all(pool.refilled() for pool in pools)


def close_pools() -> None:
    """Close every pool of this process (removes all their containers)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
        residents = list(_residents.values())
        _residents.clear()
    for resident in residents:  # before the pools: a resident's end needs the daemon's client
        resident.close()
    for pool in pools:
        pool.close()
