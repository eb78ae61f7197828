"""The backend interface: :class:`SandboxBackend` starts :class:`SandboxRun` objects.

A run owns the program from ``start()`` until its result is returned: the
wall-clock limit is enforced by a host-side watchdog thread, output goes into
capped :class:`~sandbox.channel.OutputBuffer` objects, and every path out
(``wait``, ``kill``, ``__exit__``, the watchdog) ends in the backend's cleanup.
"""

from __future__ import annotations

import abc
import atexit
import contextlib
import dataclasses
import threading
import time
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Self

from sandbox.bootstrap import encode_bundle
from sandbox.channel import OutputBuffer, ReadyGate
from sandbox.errors import SandboxError, SandboxStartError, SandboxTimeout
from sandbox.models import SandboxJob, SandboxResult

# How long kill() waits for the backend to confirm the program is gone.
KILL_CONFIRM_SECONDS = 30.0
# Watchdog tick: how late a wall-clock kill may be, and the CPU sampling period.
WATCHDOG_TICK = 0.1


class SandboxRun(abc.ABC):
    """A running sandboxed program and a two-way byte channel to it.

    Use it as a context manager: leaving the block kills the program and
    removes everything the backend created, also on exceptions and
    ``KeyboardInterrupt``. All methods may be called from any thread, but
    ``recv`` is meant for one consumer.
    """

    def __init__(self, job: SandboxJob) -> None:
        self.job = job
        limits = job.limits
        # stdout is the channel: its cap bounds what waits unread, not what crosses it.
        self._stdout = OutputBuffer(
            limits.output_bytes, on_overflow=self._on_overflow, lifetime=False
        )
        self._stderr = OutputBuffer(limits.output_bytes, on_overflow=self._on_overflow)
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._timed_out = False
        self._outcome: SandboxResult | None = None
        self._final: SandboxResult | None = None
        self._started = time.monotonic()
        self._watchdog: threading.Thread | None = None

    # -- backend hooks -------------------------------------------------------

    @abc.abstractmethod
    def _launch(self) -> None:
        """Start the program; on failure clean up and raise a SandboxError."""

    @abc.abstractmethod
    def _write_stdin(self, data: bytes, timeout: float | None = None) -> None:
        """Write all of ``data`` to the program's stdin; raise ChannelClosed if gone, and
        SandboxTimeout if it is not all written within ``timeout`` seconds."""

    @abc.abstractmethod
    def _shut_stdin(self) -> None:
        """Close the program's stdin (EOF)."""

    @abc.abstractmethod
    def _terminate(self) -> None:
        """Ask for the program to be killed; must not raise, may return before it is dead."""

    def _force_cleanup(self) -> None:  # noqa: B027 - optional hook
        """Last resort when the backend never confirmed the end (override)."""

    def _sample(self) -> None:  # noqa: B027 - optional hook
        """Called on every watchdog tick while running (e.g. CPU sampling)."""

    # -- used by backends ------------------------------------------------------

    def _boot(self, gate: ReadyGate | Callable[[float], ReadyGate | None]) -> None:
        """Hand the job's files to the trusted bootstrap and wait for its READY marker.

        ``gate`` is where READY arrives, or a function that finds it once the files are sent
        (given the deadline; ``None`` if the bootstrap never got that far). On failure the run
        is killed and :class:`~sandbox.errors.SandboxStartError` says how the bootstrap ended
        and what it printed.
        """
        try:
            # If the bootstrap died, the write fails; its stderr is reported below.
            with contextlib.suppress(SandboxError):
                self._write_stdin(encode_bundle(self.job.argv, self.job.files))
            deadline = time.monotonic() + self.job.limits.wall_timeout + 30
            found = gate if isinstance(gate, ReadyGate) else gate(deadline)
            if found is not None:
                found.ready.wait(max(deadline - time.monotonic(), 0))
            if found is None or not found.ok:
                result = self.kill()
                detail = (result.stderr or result.stdout).decode(errors="replace").strip()
                raise SandboxStartError(
                    f"sandbox bootstrap failed ({result.describe()}): {detail[-500:]}",
                    fix="run: grader doctor",
                )
        except BaseException:
            self.kill()
            raise

    def _begin(self) -> None:
        """Start the wall clock and the watchdog that enforces it."""
        self._started = time.monotonic()
        self._watchdog = threading.Thread(target=self._watch, name="sandbox-watchdog", daemon=True)
        self._watchdog.start()

    def _watch(self) -> None:
        """Kill the program at the wall-clock limit (runs in its own thread)."""
        deadline = self._started + self.job.limits.wall_timeout
        while not self._done.wait(min(WATCHDOG_TICK, max(deadline - time.monotonic(), 0))):
            self._sample()
            if time.monotonic() >= deadline:
                self._timed_out = True
                self._terminate()
                return

    def _on_overflow(self) -> None:
        """Output cap reached: the channel is flooded, stop the program.

        Called on the reader thread, which must keep draining meanwhile (a
        Docker kill waits for the attach stream, which waits for the reader),
        so the kill runs on a thread of its own.
        """
        threading.Thread(target=self._terminate, name="sandbox-overflow", daemon=True).start()

    def _finish(
        self,
        *,
        exit_code: int | None,
        signal: int | None,
        memory_killed: bool = False,
        cpu_time: float | None = None,
    ) -> None:
        """Record how the program ended; called once by the backend after cleanup."""
        with self._lock:
            if self._outcome is not None:
                return
            self._stdout.close()
            self._stderr.close()
            self._outcome = SandboxResult(
                exit_code=exit_code,
                signal=signal,
                timed_out=self._timed_out,
                memory_killed=memory_killed,
                output_truncated=self._stdout.truncated or self._stderr.truncated,
                wall_time=time.monotonic() - self._started,
                cpu_time=cpu_time,
            )
        self._done.set()

    # -- public API ----------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once the program has ended and the backend has cleaned up."""
        return self._done.is_set()

    def send(self, data: bytes, timeout: float | None = None) -> None:
        """Write ``data`` to the program's stdin (waits while the pipe is full).

        Raises :class:`~sandbox.errors.ChannelClosed` if the program's stdin is
        closed or the program has ended, and :class:`~sandbox.errors.SandboxTimeout`
        if a program that does not read its stdin kept the data from being written
        within ``timeout`` seconds (part of it may have been written: kill the run).
        """
        self._write_stdin(bytes(data), timeout)

    def recv(self, n: int = 65536, timeout: float | None = None) -> bytes:
        """Return up to ``n`` bytes the program wrote to stdout.

        Waits up to ``timeout`` seconds (``None``: until data or end) and
        raises :class:`~sandbox.errors.SandboxTimeout` if nothing came.
        Returns ``b""`` at end of stream. Bytes are never dropped below the
        output cap; what is not taken here ends up in ``SandboxResult.stdout``.
        """
        return self._stdout.read(n, timeout)

    def cpu_usage(self, settle: float = 0.0) -> float | None:
        """Cumulative CPU seconds (user+system) used so far by every process of this run.

        Read from outside the sandbox, so the program cannot fake it; take the
        difference of two calls to time a stretch of work. ``None`` when this
        backend or host cannot measure it. Cheap (a file read or so), safe from
        any thread, never raises; after the run ended it returns the last value.

        A counter that the kernel updates when a process stops running lags behind a
        process that is running. With ``settle`` (seconds) the backend first waits, up to
        that long, until no process of the run is running, so that the value includes all
        the work done so far: for the end of a measured stretch, right after the program
        answered.
        """
        return None

    def close_stdin(self) -> None:
        """Send EOF to the program's stdin. Idempotent."""
        self._shut_stdin()

    def wait(self, timeout: float | None = None) -> SandboxResult:
        """Wait for the program to end and return its result.

        The wall-clock limit applies regardless of ``timeout``. If ``timeout``
        passes first, :class:`~sandbox.errors.SandboxTimeout` is raised and the
        program keeps running (call :meth:`kill`).
        """
        if not self._done.wait(timeout):
            raise SandboxTimeout(f"program still running after {timeout} s")
        return self._result()

    def kill(self) -> SandboxResult:
        """Kill the program (if still running), clean up, and return the result.

        Idempotent; always removes what the backend created.
        """
        if not self._done.is_set():
            self._terminate()
            if not self._done.wait(KILL_CONFIRM_SECONDS):
                self._force_cleanup()
                self._finish(exit_code=None, signal=None)
        return self._result()

    def end(self, grace: float = 1.0) -> SandboxResult:
        """Done with this run: close the program's stdin, give it up to ``grace`` seconds to
        end by itself, kill it if it did not, and return the result.

        A backend whose runs someone else cleans up afterwards may return as soon as the
        program's output has ended, before the end is confirmed; the exit status is then
        ``None``. Use :meth:`kill` to learn how a program ended.
        """
        self.close_stdin()
        with contextlib.suppress(SandboxTimeout):
            self.wait(grace)
        return self.kill()

    def _result(self) -> SandboxResult:
        """Build the caller-facing result once, moving unread output into it."""
        with self._lock:
            if self._final is None:
                assert self._outcome is not None
                self._final = dataclasses.replace(
                    self._outcome, stdout=self._stdout.take_all(), stderr=self._stderr.take_all()
                )
            return self._final

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()


class SandboxBackend(abc.ABC):
    """Starts untrusted programs under limits.

    Attributes:
        name: Short backend name (``"docker"``, ``"process"``, ``"fake"``).
        security_boundary: Whether the backend isolates hostile code from the
            host. When False, :attr:`warning` says why.
        warning: A sentence for the operator, or ``None``.
    """

    name: str = "abstract"
    security_boundary: bool = False
    warning: str | None = None

    @abc.abstractmethod
    def start(self, job: SandboxJob) -> SandboxRun:
        """Start ``job`` and return once the program is running.

        The wall-clock limit is enforced from the host from this moment on.
        Raises :class:`~sandbox.errors.SandboxError` subclasses on failure,
        having cleaned up whatever was created.
        """

    def run(self, job: SandboxJob, stdin: bytes = b"") -> SandboxResult:
        """Run ``job`` to completion: feed ``stdin``, collect stdout and stderr (capped)."""
        with self.start(job) as run:
            # Feed stdin from a helper thread: a program that writes before it
            # reads must not deadlock against us.
            feeder = threading.Thread(target=_feed, args=(run, stdin), daemon=True)
            feeder.start()
            result = run.wait()
            feeder.join(timeout=1.0)
            return result

    def close(self) -> None:  # noqa: B027 - backends without resources keep it
        """Release resources held by the backend (kills runs still going)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class TrackingBackend(SandboxBackend):
    """A backend that remembers its live runs, so that ``close()`` can kill them all."""

    def __init__(self) -> None:
        self._runs: set[SandboxRun] = set()
        self._runs_lock = threading.Lock()

    def _launch_tracked(self, run: SandboxRun) -> None:
        """Launch ``run`` as one of ours; forget it again if it fails to start."""
        with self._runs_lock:
            self._runs.add(run)
        try:
            run._launch()
        except BaseException:
            self._forget(run)
            raise

    def _forget(self, run: SandboxRun) -> None:
        """Drop a finished run from the live set."""
        with self._runs_lock:
            self._runs.discard(run)

    def close(self) -> None:
        """Kill (and remove) every run of this backend that is still going."""
        with self._runs_lock:
            runs = list(self._runs)
        for run in runs:
            run.kill()


def close_at_exit(backend: SandboxBackend) -> None:
    """Have ``backend.close()`` run at interpreter exit, without keeping it alive."""
    ref = weakref.ref(backend)
    atexit.register(_close_ref, ref)


def _close_ref(ref: weakref.ref[SandboxBackend]) -> None:
    """atexit hook: close the backend if it still exists."""
    backend = ref()
    if backend is not None:
        backend.close()


def _feed(run: SandboxRun, data: bytes) -> None:
    """Write ``data`` then EOF, ignoring a program that stopped reading."""
    with contextlib.suppress(SandboxError):
        if data:
            run.send(data)
        run.close_stdin()
