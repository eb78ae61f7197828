"""Kernel files read through descriptors kept open (``sandbox.kernel_files``): each read is
what a fresh ``open`` would give, a process that ended is an error, not its last content,
and the descriptors kept are bounded."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from sandbox.kernel_files import OpenFiles


def state(files: OpenFiles, pid: int) -> bytes:
    """The state letter of ``pid`` from ``/proc/<pid>/stat``."""
    return files.read(f"/proc/{pid}/stat").rpartition(b")")[2].split()[0]


def test_a_kept_file_is_read_afresh_each_time() -> None:
    files = OpenFiles()
    child = subprocess.Popen(["sleep", "30"])
    try:
        deadline = time.monotonic() + 10
        while state(files, child.pid) != b"S":  # asleep once it has started
            assert time.monotonic() < deadline
        os.kill(child.pid, 19)  # SIGSTOP: the same descriptor must show the new state
        deadline = time.monotonic() + 10
        while state(files, child.pid) != b"T":
            assert time.monotonic() < deadline
    finally:
        child.kill()
        child.wait()
        files.close()


def test_a_process_that_ended_cannot_be_read_any_more() -> None:
    files = OpenFiles()
    child = subprocess.Popen(["sleep", "30"])
    files.read(f"/proc/{child.pid}/stat")
    child.kill()
    child.wait()
    with pytest.raises(OSError):
        files.read(f"/proc/{child.pid}/stat")
    files.close()


def test_the_descriptors_kept_are_bounded() -> None:
    files = OpenFiles(limit=3)
    before = len(os.listdir("/proc/self/fd"))
    for name in ("stat", "status", "cmdline", "environ", "limits", "io"):
        files.read(f"/proc/self/{name}")
    assert len(os.listdir("/proc/self/fd")) - before <= 3
    files.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_task_list_shows_the_tasks_of_now(tmp_path: Path) -> None:
    """A cgroup's task list is never served from a kept descriptor: cgroup v1 would repeat the
    list it built at the first read for up to a second."""
    files = OpenFiles()
    tasks = tmp_path / "tasks"
    tasks.write_text("1\n")
    assert files.read(tasks) == b"1\n"
    tasks.unlink()
    tasks.write_text("2\n")  # a new file: a kept descriptor would still read the old one
    assert files.read(tasks) == b"2\n"
    files.close()
