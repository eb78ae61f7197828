"""How the parent starts a harness child and hears from it: the child's environment, its
spec file, its command line, and the events it appends to its results file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from grader.exercise import Exercise
from grader.harness.events import HarnessEvent, decode
from grader.settings import grader_settings

if TYPE_CHECKING:
    from grader.harness.forks import ForkServer

#: The ``bytecode_dir`` setting that turns the cache off.
NO_BYTECODE = "off"


def child_env(bytecode: bool = True) -> dict[str, str]:
    """A predictable environment for pytest children: no plugins from the host, and compiled
    code only from the grader's own cache (:func:`bytecode_dir`), or none without ``bytecode``
    (a run that imports code from a fresh directory each time would only fill the cache)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    env.update(
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        PYTHONHASHSEED="0",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    cache = bytecode_dir() if bytecode else None
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


@lru_cache(maxsize=1)
def bytecode_dir() -> Path | None:
    """Where harness children keep the bytecode they compile, or ``None`` (no cache).

    Without it every child compiled the grader's modules and pytest rewrote the hidden tests'
    asserts again: 0.15-0.2 s of each grading's start. It holds the hidden suites' compiled
    code, so it is private to the user (mode 0700) and never mounted into a sandbox; setting
    ``GRADER_BYTECODE_DIR=off`` turns it off.
    """
    setting = grader_settings().bytecode_dir
    if setting == NO_BYTECODE:
        return None
    if setting:
        path = Path(setting).expanduser()
    else:
        cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(cache_home) / "hidden-grader" / "bytecode"
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None  # an unwritable home: grading works, only slower
    return path.resolve() if os.access(path, os.W_OK) else None


def child_command(spec: Path) -> list[str]:
    """The command line of a harness child that runs ``spec``."""
    return [sys.executable, "-m", "grader.harness.child", str(spec)]


class ChildProcess(Protocol):
    """What the supervisor uses of a harness child: a ``Popen``, or a forked child."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    @property
    def stdin(self) -> IO[bytes] | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def start_child(
    spec: Path,
    workdir: Path,
    output: IO[bytes],
    stdin: bool,
    forks: ForkServer | None = None,
    pass_fds: tuple[int, ...] = (),
) -> ChildProcess:
    """Start a harness child for ``spec`` in a process group of its own, writing to ``output``
    (with a pipe on its stdin if ``stdin``, and this process's descriptors ``pass_fds`` under
    the same numbers): forked by ``forks`` when given and up, else in a fresh interpreter
    (slower to start, the same in every other way)."""
    if forks is not None:
        from grader.harness.forks import ForkServerLost

        try:
            argv = child_command(spec)[1:]
            return forks.spawn(argv, workdir, output.fileno(), stdin, pass_fds)
        except ForkServerLost:
            pass
    return subprocess.Popen(
        child_command(spec),
        env=child_env(),
        cwd=workdir,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        pass_fds=pass_fds,
    )


def write_spec(workdir: Path, exercise: Exercise, **extra: Any) -> Path:
    """Write the child's spec file (and an empty ini file that shields the suite)."""
    ini = workdir / "pytest.ini"
    ini.write_text("[pytest]\n")
    spec = {
        "parent": os.getpid(),
        "hidden_dir": str(exercise.hidden_dir),
        "ini": str(ini),
        "module": exercise.module_name,
        "reference_dir": str(exercise.reference_path.parent),
        **extra,
    }
    path = workdir / f"spec-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec))
    return path


def read_events(path: Path, offset: int) -> tuple[list[HarnessEvent], int]:
    """Events of the complete lines appended since ``offset``, and the new offset.

    A line that is no event raises ``MalformedEvent`` (a ``HarnessFault``).
    """
    if not path.exists():
        return [], offset
    with path.open("rb") as stream:
        stream.seek(offset)
        data = stream.read()
    end = data.rfind(b"\n") + 1
    lines = data[:end].decode("utf-8", "replace").splitlines()
    return [decode(line) for line in lines if line.strip()], offset + end
