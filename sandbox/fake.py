"""A scripted in-process backend for testing the layers above the sandbox.

The "program" is a Python callable run in a thread; it talks over the same
channel semantics (stdin, stdout, stderr, caps, wall limit, result) as the
real backends, so harness code can be tested fast and deterministically::

    def echo(io: FakeIO) -> int:
        io.write(io.read())
        return 0

    backend = FakeSandbox(echo)
    assert backend.run(job, stdin=b"hi").stdout == b"hi"

CPU time is a fake counter: the program advances it with ``io.burn(seconds)``
(or a test sets it with ``run.set_cpu(seconds)``) and ``run.cpu_usage()``
reads it, so timing logic above can be tested without real work;
``FakeSandbox(..., measure_cpu=False)`` acts like a host that cannot measure.

It isolates nothing: ``security_boundary`` is False.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

from sandbox.base import SandboxBackend, SandboxRun
from sandbox.channel import OutputBuffer
from sandbox.errors import ChannelClosed, SandboxTimeout
from sandbox.models import SandboxJob


class FakeKilled(BaseException):
    """Raised inside a fake program's I/O calls once the run was killed.

    A BaseException so that ``except Exception`` in the program cannot swallow it.
    """


class _FakeExit(BaseException):
    """Ends a fake program with a chosen outcome (see :meth:`FakeIO.die`)."""

    def __init__(self, signal: int | None, memory_killed: bool) -> None:
        super().__init__(signal, memory_killed)
        self.signal = signal
        self.memory_killed = memory_killed


class FakeIO:
    """The fake program's side of the channel."""

    def __init__(self, run: FakeRun) -> None:
        self._run = run
        self.job = run.job

    def _check(self) -> None:
        if self._run._killed.is_set():
            raise FakeKilled()

    def read(self, n: int = 65536, timeout: float | None = None) -> bytes:
        """Up to ``n`` bytes of stdin; ``b""`` at EOF (after ``close_stdin``)."""
        while True:
            self._check()
            try:
                return self._run._stdin.read(n, timeout=0.05 if timeout is None else timeout)
            except SandboxTimeout:
                if timeout is not None:
                    raise

    def readline(self) -> bytes:
        """One line of stdin including ``\\n`` (or what is left at EOF)."""
        line = bytearray()
        while not line.endswith(b"\n"):
            byte = self.read(1)
            if not byte:
                break
            line += byte
        return bytes(line)

    def write(self, data: bytes) -> None:
        """Write to stdout (counts against the output cap)."""
        self._check()
        self._run._stdout.feed(bytes(data))

    def write_stderr(self, data: bytes) -> None:
        """Write to stderr (counts against the output cap)."""
        self._check()
        self._run._stderr.feed(bytes(data))

    def burn(self, seconds: float) -> None:
        """Pretend to use ``seconds`` of CPU: advances the run's fake CPU counter."""
        self._check()
        self._run._advance_cpu(seconds)

    def die(self, *, signal: int = 9, memory_killed: bool = False) -> None:
        """End the program as if killed by ``signal`` (e.g. to fake an OOM kill)."""
        raise _FakeExit(signal, memory_killed)


FakeProgram = Callable[[FakeIO], "int | None"]


class FakeRun(SandboxRun):
    """A fake program running in a daemon thread."""

    def __init__(self, job: SandboxJob, program: FakeProgram, measure_cpu: bool = True) -> None:
        super().__init__(job)
        self._measure_cpu = measure_cpu
        self._cpu = 0.0
        self._cpu_lock = threading.Lock()
        # Stdin is unbounded here: tests control both ends.
        self._stdin = OutputBuffer(cap=2**62)
        self._killed = threading.Event()
        self._program = program
        self._thread = threading.Thread(target=self._main, name="fake-program", daemon=True)

    def _launch(self) -> None:
        self._begin()
        self._thread.start()

    def _main(self) -> None:
        """Run the program and translate how it ended."""
        code: int | None = None
        sig: int | None = None
        oom = False
        try:
            returned = self._program(FakeIO(self))
            code = 0 if returned is None else int(returned)
        except FakeKilled:
            return  # already finished by _terminate
        except _FakeExit as end:
            sig, oom = end.signal, end.memory_killed
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            self._stderr.feed(traceback.format_exc().encode())
            code = 1
        self._finish(exit_code=code, signal=sig, memory_killed=oom, cpu_time=self.cpu_usage())

    def _write_stdin(self, data: bytes, timeout: float | None = None) -> None:
        if self._stdin.closed or self.done:
            raise ChannelClosed("stdin is closed")
        self._stdin.feed(data)

    def _shut_stdin(self) -> None:
        self._stdin.close()

    def _terminate(self) -> None:
        # A thread cannot be killed: its next I/O call raises FakeKilled; the
        # run ends now, like a SIGKILL.
        self._killed.set()
        self._stdin.close()
        self._finish(exit_code=None, signal=9, cpu_time=self.cpu_usage())

    def cpu_usage(self, settle: float = 0.0) -> float | None:
        """The fake CPU counter (None when the backend was made with ``measure_cpu=False``)."""
        with self._cpu_lock:
            return self._cpu if self._measure_cpu else None

    def _advance_cpu(self, seconds: float) -> None:
        """Add ``seconds`` to the fake CPU counter."""
        with self._cpu_lock:
            self._cpu += seconds

    def set_cpu(self, seconds: float) -> None:
        """Set the fake CPU counter (tests may also move it backwards to probe callers)."""
        with self._cpu_lock:
            self._cpu = float(seconds)


class FakeSandbox(SandboxBackend):
    """Backend whose programs are Python callables (for tests).

    Args:
        program: Called with a :class:`FakeIO` for each started job; its
            return value is the exit code (``None`` means 0); an exception
            means exit 1 with the traceback on stderr. Default: exit 0.
        measure_cpu: When False, ``cpu_usage()`` returns None and the
            result's ``cpu_time`` is None, like a host that cannot measure.

    Attributes:
        jobs: Every job started, in order (for assertions).
    """

    name = "fake"
    security_boundary = False
    warning = "fake sandbox: runs Python callables in-process, for tests only"

    def __init__(self, program: FakeProgram | None = None, *, measure_cpu: bool = True) -> None:
        self.program: FakeProgram = program or (lambda io: 0)
        self.measure_cpu = measure_cpu
        self.jobs: list[SandboxJob] = []

    def start(self, job: SandboxJob) -> FakeRun:
        """Start the scripted program for ``job``."""
        self.jobs.append(job)
        run = FakeRun(job, self.program, self.measure_cpu)
        run._launch()
        return run
