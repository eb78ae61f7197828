"""CPU accounting through cgroups: reading counters and per-run groups.

A cgroup's CPU counter covers every task that ever ran in it, including
children that already exited, and it is read from the host, so hostile code
cannot fake it. Two kinds of counter exist: cgroup v1 ``cpuacct.usage``
(nanoseconds) and cgroup v2 ``cpu.stat`` (its ``usage_usec`` line).

The process backend puts each run in a group of its own below
``<hierarchy>/hidden-grader/``, named ``run-<owner pid>-<owner start>-<n>``:
the owner's pid and start time (clock ticks since boot, from
``/proc/<pid>/stat``) say whether the grader that created it still lives, so
leftovers of crashed graders can be removed without touching a live one's.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox.kernel_files import OPEN_FILES

CPUACCT_USAGE = "cpuacct.usage"
CPU_STAT = "cpu.stat"
GROUP_DIR = "hidden-grader"
_RUN_NAME = re.compile(r"run-(\d+)-(\d+)-(\d+)\Z")
_SEQUENCE = itertools.count(1)
# How long the end of a run waits for its group to empty before giving up on it.
EMPTY_WAIT_SECONDS = 2.0


def parse_cpu_counter(name: str, data: bytes) -> float:
    """CPU seconds in the content of a ``cpuacct.usage`` or ``cpu.stat`` file."""
    if name == CPUACCT_USAGE:
        return int(data) / 1e9
    for line in data.splitlines():
        key, _, value = line.partition(b" ")
        if key == b"usage_usec":
            return int(value) / 1e6
    raise ValueError(f"no usage_usec in {name}")


def read_small(path: str | Path) -> bytes:
    """The content of a small kernel file, read through a descriptor kept open
    (:mod:`sandbox.kernel_files`)."""
    return OPEN_FILES.read(path)


def read_cpu_counter(path: str | Path, settle: float = 0.0) -> float:
    """CPU seconds of the counter file at ``path``; raises OSError or ValueError. With
    ``settle``, first waits up to that long for its group to be at rest
    (:func:`wait_until_at_rest`)."""
    if settle > 0:
        wait_until_at_rest(os.path.dirname(path), settle)
    return parse_cpu_counter(os.path.basename(path), read_small(path))


def wait_until_at_rest(group: str | Path, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds until no task of the cgroup ``group`` is running; whether
    that happened.

    The kernel adds a task's CPU time to its group's counter when the task stops running, or
    at a timer tick (4 ms apart at 250 Hz). A program that just answered is still running for
    tens of microseconds on its way back to waiting: read then, the counter misses the whole
    batch it ran (about once in 2,000 costs of 0.2 ms). A task that waits, or that was
    preempted, has all its time counted. A timeout longer than a tick bounds what a program
    that keeps running can hide: the tick counts its time too.
    """
    deadline = time.monotonic() + timeout
    while _any_task_running(str(group)):
        if time.monotonic() >= deadline:
            return False
        # A task waiting for a CPU shows as running too: on a busy machine, looking again
        # at once took the very CPU it needed to finish (about 0.1 s of a grading's CPU,
        # two gradings at a time on two cores). Yielding costs nothing when no one waits.
        os.sched_yield()
    return True


def _any_task_running(group: str) -> bool:
    """Whether a task of the cgroup ``group`` is running or runnable (``R``) now."""
    for listing in ("cgroup.threads", "tasks"):  # cgroup v2, v1
        try:
            tids = read_small(os.path.join(group, listing)).split()
        except OSError:
            continue
        return any(stat_fields(int(tid))[:1] == [b"R"] for tid in tids)
    return False


def stat_fields(pid: int) -> list[bytes]:
    """The fields of ``/proc/<pid>/stat`` after the command name, from the state on (empty if
    there is no such process). The name may hold spaces and parentheses: they are the fields
    after the last ")"."""
    try:
        return read_small(f"/proc/{pid}/stat").rpartition(b")")[2].split()
    except OSError:
        return []


def process_start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot, or None if there is no such process."""
    fields = stat_fields(pid)
    return int(fields[19]) if len(fields) > 19 else None


def owner_alive(pid: int, start: int) -> bool:
    """Whether the process that created a run group (pid and start time) still runs."""
    return process_start_time(pid) == start


def run_group_name(pid: int | None = None) -> str:
    """A fresh run group name owned by ``pid`` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    return f"run-{pid}-{process_start_time(pid) or 0}-{next(_SEQUENCE)}"


def parse_run_group_name(name: str) -> tuple[int, int] | None:
    """``(owner pid, owner start time)`` of a run group name, None for other names."""
    match = _RUN_NAME.match(name)
    return (int(match[1]), int(match[2])) if match else None


def own_prefix() -> str:
    """The name prefix of every run group this process creates."""
    pid = os.getpid()
    return f"run-{pid}-{process_start_time(pid) or 0}-"


class RunCgroup:
    """One run's cgroup: joined by the program before exec, read, emptied, removed."""

    def __init__(self, path: Path, counter: str) -> None:
        self.path = path
        self.counter_file = str(path / counter)
        self.procs_file = str(path / "cgroup.procs")

    def cpu_seconds(self, settle: float = 0.0) -> float:
        """CPU seconds of every task that ran in the group; raises OSError or ValueError.
        With ``settle``, first waits up to that long for the group to be at rest
        (:func:`wait_until_at_rest`)."""
        return read_cpu_counter(self.counter_file, settle)

    def pids(self) -> list[int]:
        """Pids in the group now (empty when it is gone)."""
        try:
            return [int(pid) for pid in read_small(self.procs_file).split()]
        except OSError:
            return []

    def contains(self, pid: int) -> bool:
        """Whether ``pid`` is in the group."""
        return pid in self.pids()

    def kill_all(self) -> None:
        """SIGKILL everything still in the group (what outlived the run's process group)."""
        kill_file = self.path / "cgroup.kill"  # cgroup v2, Linux 5.14+: atomic
        if kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_bytes(b"1")
                return
        pidfds = []
        for pid in self.pids():
            try:
                pidfds.append((pid, os.pidfd_open(pid)))
            except ProcessLookupError:
                continue
            except OSError:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)  # no pidfds (Linux < 5.3)
        # A pidfd pins the process: signal only pids still in the group after
        # pinning, so a pid reused by an outside process is never hit.
        still_in = set(self.pids())
        for pid, fd in pidfds:
            with contextlib.suppress(OSError):
                if pid in still_in:
                    signal.pidfd_send_signal(fd, signal.SIGKILL)
            os.close(fd)

    def wait_empty(self, timeout: float = EMPTY_WAIT_SECONDS) -> bool:
        """Kill what is left and wait until no task is in the group."""
        deadline = time.monotonic() + timeout
        while self.pids():
            if time.monotonic() >= deadline:
                return False
            self.kill_all()
            time.sleep(0.01)
        return True

    def remove(self, timeout: float = 1.0) -> bool:
        """rmdir the group, retrying briefly while the kernel still counts dying tasks."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() >= deadline:
                    return False
            time.sleep(0.01)


@dataclass(frozen=True)
class CgroupTree:
    """A writable cgroup hierarchy with a CPU counter, where run groups are made.

    Attributes:
        mount: The hierarchy's mount point (or any directory, in tests).
        counter: ``cpuacct.usage`` (cgroup v1) or ``cpu.stat`` (cgroup v2).
    """

    mount: Path
    counter: str

    @property
    def parent(self) -> Path:
        """The directory holding every grader's run groups."""
        return self.mount / GROUP_DIR

    def create_run(self) -> RunCgroup:
        """Make a new, empty run group owned by this process; raises OSError."""
        self.parent.mkdir(exist_ok=True)
        path = self.parent / run_group_name()
        path.mkdir()
        return RunCgroup(path, self.counter)

    def own_runs(self) -> list[Path]:
        """Run groups of this process that exist now."""
        prefix = own_prefix()
        return [path for path in self._runs() if path.name.startswith(prefix)]

    def remove_leftovers(self) -> list[Path]:
        """Remove empty run groups whose grader is gone; return those removed.

        Groups of live graders are kept; a group with tasks left in it cannot
        be removed (rmdir fails) and stays.
        """
        removed = []
        for path in self._runs():
            owner = parse_run_group_name(path.name)
            if owner is None or owner_alive(*owner):
                continue
            with contextlib.suppress(OSError):
                os.rmdir(path)
                removed.append(path)
        return removed

    def _runs(self) -> list[Path]:
        """Every run group directory below :attr:`parent`."""
        try:
            return [path for path in self.parent.iterdir() if path.name.startswith("run-")]
        except OSError:
            return []


def cpu_hierarchies(mountinfo: str) -> list[CgroupTree]:
    """Mounted hierarchies with a CPU counter, cgroup v1 ``cpuacct`` first, then v2."""
    v1, v2 = [], []
    for line in mountinfo.splitlines():
        fields, _, tail = line.partition(" - ")
        parts, extra = fields.split(), tail.split()
        if len(parts) < 5 or len(extra) < 3:
            continue
        # Mount points escape spaces and the like as octal (\040).
        mount = Path(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), parts[4]))
        if extra[0] == "cgroup" and "cpuacct" in extra[2].split(","):
            v1.append(CgroupTree(mount, CPUACCT_USAGE))
        elif extra[0] == "cgroup2":
            v2.append(CgroupTree(mount, CPU_STAT))
    return v1 + v2


@functools.cache
def find_cpu_tree() -> CgroupTree | None:
    """The first hierarchy where this process may create run groups, or None.

    None when not root or the cgroup filesystem is read-only (as in most
    containers); callers then fall back to reading ``/proc``.
    """
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return None
    for tree in cpu_hierarchies(mountinfo):
        try:
            tree.parent.mkdir(exist_ok=True)
        except OSError:
            continue  # read-only cgroupfs, or not root
        # The counter proves it is a live cgroup directory, not a plain one.
        if os.access(tree.parent, os.W_OK) and (tree.parent / tree.counter).exists():
            return tree
    return None


def join_in_child(procs_file: str) -> None:
    """Move the calling process into a group (between fork and exec; the parent checks it)."""
    try:
        fd = os.open(procs_file, os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.write(fd, b"0")  # "0" means the writer itself, in v1 and v2
    except OSError:
        pass
    finally:
        os.close(fd)
