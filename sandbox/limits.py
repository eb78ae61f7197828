"""Resource limits for one sandboxed run, as a frozen value object."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

MiB = 2**20


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Limits applied to one untrusted program.

    Every field has a safe default, so ``SandboxLimits()`` is usable as is.
    Values are validated on construction; use :meth:`replace` to derive
    variants.

    Attributes:
        wall_timeout: Seconds of real time from start until the host kills the
            program (enforced from the host, not from inside the sandbox).
        cpu_seconds: CPU seconds per process (``RLIMIT_CPU``).
        memory_bytes: Memory limit. Docker: cgroup limit with swap disabled.
            Process backend: address-space limit (``RLIMIT_AS``).
        pids: Maximum number of processes/threads (Docker ``pids_limit``;
            process backend: ``RLIMIT_NPROC`` of the run's uid).
        tmpfs_bytes: Size of each writable tmpfs (the work dir and ``/tmp``).
        output_bytes: Cap on stderr bytes over the whole run, and on stdout
            bytes waiting unread (stdout is the channel, which a caller may
            keep draining). Past it the program is stopped and
            ``output_truncated`` is set.
        open_files: Maximum open file descriptors (``RLIMIT_NOFILE``).
        file_size_bytes: Largest file the program may write (``RLIMIT_FSIZE``).
        cpus: CPU share (Docker ``nano_cpus``); 1.0 is one full core.
    """

    wall_timeout: float = 30.0
    cpu_seconds: int = 30
    memory_bytes: int = 256 * MiB
    pids: int = 64
    tmpfs_bytes: int = 32 * MiB
    output_bytes: int = 1 * MiB
    open_files: int = 64
    file_size_bytes: int = 16 * MiB
    cpus: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.wall_timeout) and self.wall_timeout > 0):
            raise ValueError(f"wall_timeout must be a positive number, got {self.wall_timeout!r}")
        if not (math.isfinite(self.cpus) and self.cpus > 0):
            raise ValueError(f"cpus must be a positive number, got {self.cpus!r}")
        minimums = {
            "cpu_seconds": 1,
            # Below ~16 MiB not even the interpreter starts; refuse early.
            "memory_bytes": 16 * MiB,
            # The init process, the bootstrap and the program itself.
            "pids": 4,
            "tmpfs_bytes": 64 * 1024,
            "output_bytes": 1,
            # stdin/stdout/stderr plus what the interpreter opens at start.
            "open_files": 16,
            "file_size_bytes": 1,
        }
        for name, minimum in minimums.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < minimum:
                raise ValueError(f"{name} must be >= {minimum}, got {value}")

    def replace(self, **changes: float | int) -> SandboxLimits:
        """Return a copy with the given fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


DEFAULT_LIMITS = SandboxLimits()
