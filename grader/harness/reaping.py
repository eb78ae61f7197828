"""Ending a harness child: kill its process group, remove the Docker containers a killed child
could not remove itself, say in words how it ended, and keep the tail of what it printed."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.models import end_in_words, split_status

if TYPE_CHECKING:
    from grader.harness.launch import ChildProcess


def kill_group(proc: ChildProcess) -> None:
    """Kill the child and everything it started; reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def reap_docker() -> None:
    """Remove containers a killed child could not remove itself."""
    import docker

    from sandbox.reaper import reap

    # If the daemon is gone too, the next backend start reaps.
    with contextlib.suppress(docker.errors.DockerException):
        reap(docker.APIClient())


def describe_exit(code: int | None) -> str:
    """Say how a process ended, in words."""
    if code is None:
        return "still running"
    return end_in_words(*split_status(code, shell_convention=False))


def log_tail(path: Path, limit: int) -> str:
    """The last ``limit`` bytes of a log file, as text."""
    try:
        data = path.read_bytes()[-limit:]
    except FileNotFoundError:
        return ""
    return data.decode("utf-8", "replace")
