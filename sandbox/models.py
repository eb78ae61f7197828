"""What to run (:class:`SandboxJob`) and how it ended (:class:`SandboxResult`)."""

from __future__ import annotations

import signal as _signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from sandbox.limits import DEFAULT_LIMITS, SandboxLimits

# Where the job's files land inside the sandbox; it is also the cwd.
WORKDIR = "/work"
# The only environment variable a sandboxed program gets.
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"


def check_relative_path(path: str) -> str:
    """Return ``path`` if it is a safe relative POSIX path, else raise ValueError.

    Job files are written below the work dir; absolute paths, ``..``, empty or
    ``.`` components and NUL bytes could escape it or collide, so they are refused.
    """
    if not isinstance(path, str) or not path:
        raise ValueError("file path must be a non-empty string")
    if "\x00" in path or "\\" in path:
        raise ValueError(f"file path {path!r} contains a NUL byte or a backslash")
    if path.startswith("/"):
        raise ValueError(f"file path {path!r} must be relative")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"file path {path!r} has an empty, '.' or '..' component")
    if len(path.encode()) > 1024 or any(len(part.encode()) > 255 for part in parts):
        raise ValueError(f"file path {path!r} is too long")
    return path


@dataclass(frozen=True)
class SandboxJob:
    """One program to run: argv, the files of its work dir, and limits.

    The files land in a fresh, writable, private work dir (``/work`` inside
    the sandbox) which is the program's cwd; ``argv`` runs there with an
    environment of ``PATH`` only. Paths are relative POSIX paths; missing
    parent directories are created.
    """

    argv: Sequence[str]
    files: Mapping[str, bytes] = field(default_factory=dict)
    limits: SandboxLimits = DEFAULT_LIMITS
    #: The caller reads stdout with ``recv`` as it comes, and needs none of it afterwards (a
    #: request/response channel). A backend may then let ``recv`` read the channel itself
    #: rather than through a reader thread (faster round trips); stdout left unread at the end
    #: is not kept, and a program whose output nobody reads waits for it.
    caller_reads: bool = False

    def __post_init__(self) -> None:
        argv = tuple(self.argv)
        if not argv or not all(isinstance(a, str) and "\x00" not in a for a in argv):
            raise ValueError("argv must be a non-empty sequence of strings without NUL bytes")
        files: dict[str, bytes] = {}
        for path, data in dict(self.files).items():
            if not isinstance(data, bytes | bytearray | memoryview):
                raise TypeError(f"content of {path!r} must be bytes")
            files[check_relative_path(path)] = bytes(data)
        names = set(files)
        for path in files:
            # "a" and "a/b" cannot both be files.
            parts = path.split("/")
            for i in range(1, len(parts)):
                if "/".join(parts[:i]) in names:
                    raise ValueError(f"{path!r} needs {'/'.join(parts[:i])!r} to be a directory")
        if not isinstance(self.limits, SandboxLimits):
            raise TypeError("limits must be a SandboxLimits")
        object.__setattr__(self, "argv", argv)
        object.__setattr__(self, "files", MappingProxyType(files))

    def files_size(self) -> int:
        """Total bytes of all files."""
        return sum(len(v) for v in self.files.values())


@dataclass(frozen=True)
class SandboxResult:
    """How a sandboxed program ended.

    Exactly one of ``exit_code`` and ``signal`` is set when the program ended
    on its own or was killed; both are ``None`` only when the backend could
    not learn the status. Backends whose status goes through an init process
    or bubblewrap (Docker, bwrap) report exit statuses 129..192 as signals,
    the shell convention; a program calling ``exit(137)`` is reported as
    ``signal=9``.

    Attributes:
        exit_code: The program's exit status, if it exited.
        signal: The signal number that ended it, if any.
        timed_out: The host killed it at the wall-clock limit.
        memory_killed: It was killed (or failed) for exceeding the memory limit.
        output_truncated: It wrote more than ``output_bytes`` to stdout or
            stderr; the excess was discarded and the program was stopped.
        stdout: Stdout bytes not already taken with ``recv()`` (capped).
        stderr: Everything written to stderr (capped).
        wall_time: Seconds from start to exit, measured on the host.
        cpu_time: User+system CPU seconds, if the backend can measure it.
    """

    exit_code: int | None
    signal: int | None = None
    timed_out: bool = False
    memory_killed: bool = False
    output_truncated: bool = False
    stdout: bytes = b""
    stderr: bytes = b""
    wall_time: float = 0.0
    cpu_time: float | None = None

    @property
    def ok(self) -> bool:
        """True when the program exited 0 within every limit."""
        return (
            self.exit_code == 0
            and not self.timed_out
            and not self.memory_killed
            and not self.output_truncated
        )

    def describe(self) -> str:
        """One line for humans, e.g. ``"killed by SIGKILL (wall timeout)"``."""
        reasons = [
            text
            for flag, text in (
                (self.timed_out, "wall timeout"),
                (self.memory_killed, "memory limit"),
                (self.output_truncated, "output limit"),
            )
            if flag
        ]
        text = end_in_words(self.exit_code, self.signal)
        return f"{text} ({', '.join(reasons)})" if reasons else text


def end_in_words(exit_code: int | None, signal: int | None) -> str:
    """How a process ended, in words: ``"exit code 3"``, ``"killed by SIGKILL"``."""
    if signal is not None:
        try:
            return f"killed by {_signal.Signals(signal).name}"
        except ValueError:
            return f"killed by signal {signal}"
    if exit_code is not None:
        return f"exit code {exit_code}"
    return "unknown status"


def split_status(code: int | None, shell_convention: bool) -> tuple[int | None, int | None]:
    """Split a raw status into ``(exit_code, signal)``.

    With ``shell_convention`` (status reported by an init process or bwrap),
    129..192 means "killed by signal status-128". A negative code is the
    :mod:`subprocess` convention for a signal.
    """
    if code is None:
        return None, None
    if code < 0:
        return None, -code
    if shell_convention and 128 < code <= 128 + 64:
        return None, code - 128
    return code, None
