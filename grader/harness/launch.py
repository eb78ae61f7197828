"""How the parent starts a harness child and hears from it: the child's environment, its
spec file, its command line, and the events it appends to its results file."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from grader.exercise import Exercise
from grader.harness.events import HarnessEvent, decode


def child_env() -> dict[str, str]:
    """A predictable environment for pytest children: no plugins from the host, no bytecode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    env.update(
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONHASHSEED="0",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    return env


def child_command(spec: Path) -> list[str]:
    """The command line of a harness child that runs ``spec``."""
    return [sys.executable, "-m", "grader.harness.child", str(spec)]


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
