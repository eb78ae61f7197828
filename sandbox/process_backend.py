"""Process backend: a local subprocess under rlimits, inside bubblewrap when usable.

With ``bwrap`` the program gets fresh user, pid, net, ipc, uts and cgroup
namespaces, a read-only view of ``/usr`` only, a size-capped tmpfs work dir
and ``/tmp``, no capabilities, ``no_new_privs``, and dies with its parent.
Without it, the program is merely a child process in its own session under
rlimits, in a host temp dir: **not a security boundary** (it can read what
its uid can read and reach the network). When the grader runs as root, each
run gets a host uid of its own from an unused range (:class:`UidPool`), so
``RLIMIT_NPROC`` counts that run only and concurrent runs cannot signal or
ptrace each other; inside bubblewrap that uid appears as 65534. Where the
host allows it, each run also gets a cgroup of its own (joined before exec)
that counts its CPU time (:meth:`ProcessRun.cpu_usage`) and, at the end,
catches what outlived the process group.

Files arrive through the same bootstrap as in Docker (:mod:`sandbox.bootstrap`).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import resource
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from sandbox.base import SandboxRun, TrackingBackend, close_at_exit
from sandbox.bootstrap import READY, bootstrap_command
from sandbox.cgroup import CgroupTree, RunCgroup, find_cpu_tree, join_in_child
from sandbox.channel import ReadyGate, write_within
from sandbox.errors import (
    BackendUnavailable,
    ChannelClosed,
    SandboxStartError,
    SandboxTimeout,
)
from sandbox.models import SANDBOX_PATH, WORKDIR, SandboxJob, split_status
from sandbox.proctree import TreeCpuMeter

NOBODY = 65534
# Host uids for runs when the grader is root: far above any real account.
UID_BASE, UID_SLOTS = 1_900_000_000, 4096
UNSAFE_WARNING = (
    "process sandbox without bubblewrap is NOT a security boundary: the program can read "
    "the host's files and use the network (fix: sudo apt-get install -y bubblewrap, or use Docker)"
)

#: Wait for a stalled stdin this long when the caller sets no limit (the wall clock kills first).
_NO_LIMIT = 1e9


class UidPool:
    """Hands out distinct host uids to concurrent runs (root only), across processes.

    Each uid in use is held by an exclusive ``flock`` on a lock file, so two grader
    processes (say, two harness children grading at once) never share a uid: a shared uid
    would let one run's fork bomb exhaust the other's ``RLIMIT_NPROC``. The kernel drops the
    lock when its holder dies, so a crashed run never leaks a uid.
    """

    def __init__(
        self,
        base: int = UID_BASE,
        slots: int = UID_SLOTS,
        lock_dir: str = "/tmp/grader-sandbox-uids",
    ) -> None:
        self._base, self._slots, self._lock_dir = base, slots, lock_dir
        self._held: dict[int, int] = {}
        self._recent: list[int] = []
        self._lock = threading.Lock()

    def acquire(self) -> int:
        """A uid no other live run, in this process or another, uses."""
        os.makedirs(self._lock_dir, mode=0o700, exist_ok=True)
        # Start at a pid-dependent slot so concurrent processes rarely even contend.
        start = (os.getpid() * 8) % self._slots
        with self._lock:
            for step in range(self._slots):
                uid = self._base + (start + step) % self._slots
                if uid in self._held or uid in self._recent:
                    continue
                fd = os.open(os.path.join(self._lock_dir, str(uid)), os.O_CREAT | os.O_RDWR, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                self._held[uid] = fd
                return uid
        raise SandboxStartError("too many concurrent sandboxed processes")

    def release(self, uid: int) -> None:
        """Give ``uid`` back once its run has ended."""
        with self._lock:
            fd = self._held.pop(uid, None)
            # Reuse late: stragglers of a killed run are surely gone by then.
            self._recent = [*self._recent, uid][-64:]
        if fd is not None:
            os.close(fd)


_UIDS = UidPool()


@functools.cache
def find_bwrap() -> str | None:
    """Path of a working ``bwrap`` (probed once: user namespaces may be disabled)."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = [path, "--unshare-all", "--ro-bind", "/", "/", "true"]
    root = os.geteuid() == 0
    try:
        # Probe as the uid the sandbox will use: root may create namespaces
        # that nobody may not.
        ok = subprocess.run(
            probe,
            capture_output=True,
            timeout=10,
            check=False,
            user=NOBODY if root else None,
            group=NOBODY if root else None,
            extra_groups=[] if root else None,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return path if ok.returncode == 0 else None


def bwrap_argv(bwrap: str, job: SandboxJob) -> list[str]:
    """The bubblewrap command line wrapping the bootstrap and ``job.argv``."""
    size = str(job.limits.tmpfs_bytes)
    args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session"]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = "/" + top
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", WORKDIR]
    args += ["--chdir", WORKDIR, "--clearenv", "--setenv", "PATH", SANDBOX_PATH]
    args += ["--hostname", "sandbox", "--cap-drop", "ALL"]
    args += ["--uid", str(NOBODY), "--gid", str(NOBODY), "--remount-ro", "/"]
    return [*args, *bootstrap_command()]


def _count_own_processes() -> int:
    """Processes of this real uid (RLIMIT_NPROC counts them all)."""
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                count += os.stat(f"/proc/{entry}").st_uid == uid
            except OSError:
                continue
    return count


def _child_setup(
    job: SandboxJob, nproc: int, uid: int | None, cgroup_procs: str | None
) -> functools.partial[None]:
    """The preexec function: join the run's cgroup, take the run's uid, apply rlimits."""
    return functools.partial(_setup_child, job, nproc, uid, cgroup_procs)


def _setup_child(job: SandboxJob, nproc: int, uid: int | None, cgroup_procs: str | None) -> None:
    """Runs in the forked child before exec, so every later descendant is in the cgroup."""
    if cgroup_procs is not None:
        # Still root here: moving into a root-owned group needs it (cgroup v2
        # checks the common ancestor), so the uid switch comes after, not in Popen.
        join_in_child(cgroup_procs)
    if uid is not None:
        os.setgroups([])
        os.setregid(uid, uid)
        os.setreuid(uid, uid)
    _set_limits(job, nproc)


def _set_limits(job: SandboxJob, nproc: int) -> None:
    """Apply rlimits (runs in the forked child, after the uid switch)."""
    lim = job.limits
    for which, value in (
        (resource.RLIMIT_AS, lim.memory_bytes),
        (resource.RLIMIT_CPU, lim.cpu_seconds),
        (resource.RLIMIT_NPROC, nproc),
        (resource.RLIMIT_NOFILE, lim.open_files),
        (resource.RLIMIT_FSIZE, lim.file_size_bytes),
        (resource.RLIMIT_CORE, 0),
    ):
        hard = value + 1 if which == resource.RLIMIT_CPU else value  # SIGXCPU, then SIGKILL
        resource.setrlimit(which, (value, hard))


class ProcessRun(SandboxRun):
    """A program running as a local process group; see :class:`ProcessSandbox`."""

    def __init__(self, backend: ProcessSandbox, job: SandboxJob) -> None:
        super().__init__(job)
        self._backend = backend
        self._gate = ReadyGate(READY, self._stdout)
        self._stderr_tail = b""
        self._workdir: str | None = None
        self._stdin_lock = threading.Lock()
        self._reaped = False
        self._uid: int | None = None
        self._pump_thread: threading.Thread | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._cgroup: RunCgroup | None = None
        self._meter: TreeCpuMeter | None = None
        self._cpu_lock = threading.Lock()
        self._cpu: float | None = None

    def _launch(self) -> None:
        """Spawn, send the files, wait for READY."""
        backend, job = self._backend, self.job
        root = os.geteuid() == 0
        nproc = job.limits.pids if root else job.limits.pids + _count_own_processes()
        uid = self._uid = _UIDS.acquire() if root else None
        if backend.bwrap:
            argv, cwd = bwrap_argv(backend.bwrap, job), "/"
        else:
            self._workdir = cwd = tempfile.mkdtemp(prefix="grader-sandbox-")
            if uid is not None:
                os.chown(cwd, uid, uid)
            argv = bootstrap_command()
        cgroup = self._cgroup = backend.new_cgroup()
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env={"PATH": SANDBOX_PATH},
                start_new_session=True,
                close_fds=True,
                preexec_fn=_child_setup(job, nproc, uid, cgroup.procs_file if cgroup else None),
            )
        except (OSError, subprocess.SubprocessError) as exc:
            self._cleanup_dir()
            self._release_uid()
            self._drop_cgroup()
            raise SandboxStartError(f"cannot start the sandboxed process: {exc}") from exc
        self._choose_cpu_source(self.proc.pid)
        self._begin()
        self._pump_thread = threading.Thread(target=self._pump, name="sandbox-pipes", daemon=True)
        self._pump_thread.start()
        threading.Thread(target=self._reap, name="sandbox-exit", daemon=True).start()
        self._boot(self._gate)

    def _pump(self) -> None:
        """Move stdout/stderr into the buffers until both pipes close."""
        assert self.proc is not None and self.proc.stdout and self.proc.stderr
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout.fileno(), selectors.EVENT_READ, self._gate.feed)
        sel.register(self.proc.stderr.fileno(), selectors.EVENT_READ, self._on_stderr)
        reaped_at = None
        while sel.get_map():
            # Timeout: a grandchild holding the pipes open must not pin us after the end.
            for key, _ in sel.select(timeout=0.2):
                data = os.read(key.fd, 65536)
                if data:
                    key.data(data)
                else:
                    sel.unregister(key.fd)
            if self._reaped:
                reaped_at = reaped_at or time.monotonic()
                if not sel.select(timeout=0) or time.monotonic() - reaped_at > 1.0:
                    break
        sel.close()
        self._gate.eof()
        self._stdout.close()
        self._stderr.close()

    def _on_stderr(self, data: bytes) -> None:
        self._stderr_tail = (self._stderr_tail + data)[-4096:]
        self._stderr.feed(data)

    def _reap(self) -> None:
        """Wait for the process, kill its group's stragglers, record the result."""
        assert self.proc is not None
        # Exited but not reaped yet, so its pid cannot be reused: last look at the tree.
        os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOWAIT)
        with self._cpu_lock:
            self._read_cpu()
            self._meter = None
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self._terminate()  # stragglers in the process group
        self._reaped = True
        if self._pump_thread is not None:
            self._pump_thread.join(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        cpu_time = self._close_cgroup()  # before the uid goes back: stragglers die first
        self._cleanup_dir()
        self._release_uid()
        code, sig = split_status(self.proc.returncode, shell_convention=bool(self._backend.bwrap))
        if cpu_time is None and not self._backend.bwrap:
            # Not for bwrap: its monitor exits without reaping the sandbox's
            # pid 1, so its rusage misses the program; report nothing then.
            cpu_time = usage.ru_utime + usage.ru_stime
        self._finish(
            exit_code=code,
            signal=sig,
            memory_killed=code not in (0, None) and b"MemoryError" in self._stderr_tail,
            cpu_time=cpu_time,
        )
        self._backend._forget(self)

    # -- CPU accounting ------------------------------------------------------------

    def cpu_usage(self, settle: float = 0.0) -> float | None:
        """CPU seconds of the run so far, from its cgroup, else from ``/proc``.

        With a cgroup (root, writable cgroupfs) it counts every process that
        ever ran in the run, including children that already exited. The
        ``/proc`` fallback sums the live process tree and therefore misses
        processes that already exited, except for the CPU they had used when
        last seen (by an earlier call or a watchdog tick, every 0.1 s).
        """
        with self._cpu_lock:
            self._read_cpu(settle)
            return self._cpu

    def _sample(self) -> None:
        """Watchdog tick: sample, so the fallback sees short-lived children too."""
        self.cpu_usage()

    def _read_cpu(self, settle: float = 0.0) -> None:
        """Update the last CPU value from the run's source (caller holds the lock); the
        ``/proc`` meter needs no settling (``schedstat`` includes a running task's time)."""
        try:
            if self._cgroup is not None:
                self._cpu = self._cgroup.cpu_seconds(settle)
            elif self._meter is not None:
                self._cpu = self._meter.sample()
        except Exception:
            pass  # group removed or process gone: keep the last value

    def _choose_cpu_source(self, pid: int) -> None:
        """Use the cgroup if the child really joined it, else the /proc tree meter."""
        if self._cgroup is not None and not self._cgroup.contains(pid):
            self._drop_cgroup()  # e.g. a cgroup v2 permission check refused the move
        if self._cgroup is None:
            self._meter = TreeCpuMeter(pid)

    def _close_cgroup(self) -> float | None:
        """Empty and remove the run's cgroup; return its final CPU seconds (None if none)."""
        cgroup = self._cgroup
        if cgroup is None:
            return None
        # Everything in the group belongs to this run (a setsid() grandchild too).
        cgroup.wait_empty()
        with self._cpu_lock:
            self._read_cpu()
            final = self._cpu
            self._cgroup = None  # from now on cpu_usage() returns the final value
        cgroup.remove()
        return final

    def _drop_cgroup(self) -> None:
        """Give up the run's cgroup without measuring anything."""
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None

    def _release_uid(self) -> None:
        """Return the run's host uid to the pool."""
        if self._uid is not None:
            _UIDS.release(self._uid)
            self._uid = None

    def _cleanup_dir(self) -> None:
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def _write_stdin(self, data: bytes, timeout: float | None = None) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        with self._stdin_lock:
            try:
                fd = self.proc.stdin.fileno()
                os.set_blocking(fd, False)  # our end only: the program's end is its own
                write_within(
                    lambda view: os.write(fd, view),
                    fd,
                    data,
                    _NO_LIMIT if timeout is None else timeout,
                )
            except SandboxTimeout:
                raise
            except (OSError, ValueError) as exc:
                raise ChannelClosed(f"program's stdin is gone: {exc}") from exc

    def _shut_stdin(self) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            with self._stdin_lock, contextlib.suppress(OSError):
                self.proc.stdin.close()

    def _terminate(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)


class ProcessSandbox(TrackingBackend):
    """Runs each job as a local process group under rlimits, in bubblewrap if usable.

    Args:
        use_bwrap: ``None`` (default) uses bubblewrap when it works here;
            ``True`` requires it (raising
            :class:`~sandbox.errors.BackendUnavailable` otherwise); ``False``
            never uses it.
        use_cgroups: Put each run in a cgroup of its own for CPU accounting
            when the host allows it (root and a writable cgroupfs; see
            :mod:`sandbox.cgroup`); ``False`` always uses the ``/proc``
            fallback of :meth:`ProcessRun.cpu_usage`.

    Attributes:
        security_boundary: True only with bubblewrap. Even then it is weaker
            than Docker: memory is an address-space rlimit, not a cgroup; no
            seccomp filter; ``pids`` is ``RLIMIT_NPROC`` (per run only when
            the grader is root).
        warning: Says plainly when this is not a security boundary.
        cgroups: The hierarchy where run cgroups are made, or None.
    """

    name = "process"

    def __init__(self, *, use_bwrap: bool | None = None, use_cgroups: bool = True) -> None:
        self.bwrap = find_bwrap() if use_bwrap is not False else None
        if use_bwrap and self.bwrap is None:
            raise BackendUnavailable(
                "bubblewrap (bwrap) is missing or cannot create namespaces here",
                fix="sudo apt-get install -y bubblewrap (and allow unprivileged user namespaces)",
            )
        self.security_boundary = self.bwrap is not None
        self.warning = None if self.bwrap else UNSAFE_WARNING
        self.cgroups: CgroupTree | None = find_cpu_tree() if use_cgroups else None
        if self.cgroups is not None:
            self.cgroups.remove_leftovers()
        super().__init__()
        close_at_exit(self)

    def new_cgroup(self) -> RunCgroup | None:
        """A fresh cgroup for one run, or None when cgroups cannot be used here."""
        if self.cgroups is None:
            return None
        try:
            return self.cgroups.create_run()
        except OSError:
            return None

    def start(self, job: SandboxJob) -> ProcessRun:
        """Start ``job``; returns once the bootstrap has written the files."""
        run = ProcessRun(self, job)
        self._launch_tracked(run)
        return run
