"""The process backend for real: with bubblewrap, and plain (rlimits only).

The same hostile programs as for Docker. Where the plain backend cannot
contain something (it is not a security boundary) the test is skipped with
that reason; where bubblewrap needs user namespaces the bwrap fixture skips.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import textwrap
import time
import uuid

import pytest

from sandbox import ProcessSandbox, SandboxJob, SandboxLimits
from sandbox.process_backend import UNSAFE_WARNING

from .cpu_probe import CPU_SERVER, cpu_of

MiB = 2**20
FAST = SandboxLimits(wall_timeout=20.0)
BOTH = pytest.mark.parametrize("kind", ["bwrap", "plain"])


def job(
    code: str, limits: SandboxLimits = FAST, files: dict[str, bytes] | None = None
) -> SandboxJob:
    """A job running ``code`` as main.py."""
    return SandboxJob(
        argv=["python3", "-S", "main.py"],
        files={"main.py": textwrap.dedent(code).encode(), **(files or {})},
        limits=limits,
    )


def backend_of(request: pytest.FixtureRequest, kind: str) -> ProcessSandbox:
    """The bwrap or plain process backend fixture."""
    backend: ProcessSandbox = request.getfixturevalue(f"{kind}_sandbox")
    return backend


def host_processes_with(marker: str) -> list[int]:
    """Pids on this host whose command line contains ``marker``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def test_plain_backend_says_it_is_not_a_boundary(plain_sandbox: ProcessSandbox) -> None:
    assert plain_sandbox.security_boundary is False
    assert plain_sandbox.warning == UNSAFE_WARNING
    assert "NOT a security boundary" in UNSAFE_WARNING


def test_bwrap_backend_is_a_boundary(bwrap_sandbox: ProcessSandbox) -> None:
    assert bwrap_sandbox.security_boundary is True and bwrap_sandbox.warning is None


@BOTH
def test_basic_files_argv_stdin(request: pytest.FixtureRequest, kind: str) -> None:
    code = """
        import os, sys, pkg.mod
        data = sys.stdin.buffer.read()
        sys.stdout.buffer.write(data[::-1] + pkg.mod.X)
        print(sorted(os.environ), file=sys.stderr)
        sys.exit(7)
    """
    os.environ["GRADER_HOST_SECRET_CANARY"] = "leak-me"
    try:
        result = backend_of(request, kind).run(
            job(code, files={"pkg/__init__.py": b"", "pkg/mod.py": b"X = b'!'"}), stdin=b"abc"
        )
    finally:
        del os.environ["GRADER_HOST_SECRET_CANARY"]
    assert (result.exit_code, result.signal, result.stdout) == (7, None, b"cba!")
    assert set(eval(result.stderr)) <= {"PATH", "LC_CTYPE", "PWD"}


@BOTH
def test_channel_round_trips(request: pytest.FixtureRequest, kind: str) -> None:
    code = """
        import sys
        for line in sys.stdin.buffer:
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()
    """
    with backend_of(request, kind).start(job(code)) as run:
        for i in range(50):
            run.send(b"msg %d\n" % i)
            got = b""
            while not got.endswith(b"\n"):
                got += run.recv(4096, timeout=10)
            assert got == b"msg %d\n" % i
        run.close_stdin()
        assert run.recv(10, timeout=10) == b""
        assert run.wait(timeout=10).exit_code == 0


@BOTH
def test_fork_bomb_stopped_by_pids_limit(request: pytest.FixtureRequest, kind: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("RLIMIT_NPROC counts all of the caller's processes unless run as root")
    code = """
        import os, time
        ok = failed = 0
        for _ in range(300):
            try:
                pid = os.fork()
            except OSError:
                failed += 1
                continue
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            ok += 1
        print(ok, failed, flush=True)
        os.killpg(0, 9)
    """
    result = backend_of(request, kind).run(job(code, FAST.replace(pids=32)))
    ok, failed = map(int, result.stdout.split())
    assert ok < 32 and failed > 0 and not result.timed_out


@BOTH
def test_memory_bomb_reported_as_memory_killed(request: pytest.FixtureRequest, kind: str) -> None:
    code = """
        hog = []
        while True:
            hog.append(b"\\x01" * (8 * 2**20))
    """
    result = backend_of(request, kind).run(job(code, FAST.replace(memory_bytes=96 * MiB)))
    assert result.memory_killed and result.exit_code != 0, result


@BOTH
def test_infinite_loop_killed_at_wall_limit(request: pytest.FixtureRequest, kind: str) -> None:
    started = time.monotonic()
    result = backend_of(request, kind).run(job("while True: pass", FAST.replace(wall_timeout=2)))
    assert result.timed_out and result.signal == 9
    assert time.monotonic() - started < 4.0


@BOTH
def test_gigabyte_of_stdout_truncated(request: pytest.FixtureRequest, kind: str) -> None:
    code = """
        import sys
        chunk = b"x" * 2**20
        for _ in range(1024):
            sys.stdout.buffer.write(chunk)
    """
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = backend_of(request, kind).run(job(code, FAST.replace(output_bytes=1 * MiB)))
    assert result.output_truncated and len(result.stdout) == 1 * MiB
    assert not result.timed_out
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 64 * 1024


@BOTH
def test_file_size_limit(request: pytest.FixtureRequest, kind: str) -> None:
    code = """
        import errno, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        try:
            with open("big", "wb") as fh:
                fh.write(b"z" * (3 * 2**20))
        except OSError as exc:
            print(errno.errorcode[exc.errno])
    """
    result = backend_of(request, kind).run(job(code, FAST.replace(file_size_bytes=1 * MiB)))
    assert result.stdout.strip() == b"EFBIG"


@BOTH
def test_no_process_left_after_host_exception(request: pytest.FixtureRequest, kind: str) -> None:
    marker = f"grader-left-{uuid.uuid4().hex}"
    code = f"""
        import os
        os.execvp("python3", ["python3", "-c", "import time; time.sleep(600)", "{marker}"])
    """
    with pytest.raises(RuntimeError), backend_of(request, kind).start(job(code)) as run:
        deadline = time.monotonic() + 5
        while not host_processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert host_processes_with(marker)
        raise RuntimeError("host side failure")
    assert run.done
    assert host_processes_with(marker) == []


# -- isolation: bubblewrap only -------------------------------------------------


@BOTH
def test_disk_fill_stopped_by_tmpfs_size(request: pytest.FixtureRequest, kind: str) -> None:
    if kind == "plain":
        pytest.skip("plain process backend has no tmpfs: the work dir is on the host disk")
    code = """
        import errno
        total, n = 0, 0
        try:
            while True:
                with open("fill%d" % n, "wb") as fh:
                    for _ in range(16):
                        fh.write(b"z" * 65536)
                        fh.flush()
                        total += 65536
                n += 1
        except OSError as exc:
            print(errno.errorcode[exc.errno], total)
    """
    result = backend_of(request, kind).run(job(code, FAST.replace(tmpfs_bytes=4 * MiB)))
    name, total = result.stdout.split()
    assert name == b"ENOSPC" and int(total) <= 4 * MiB


@BOTH
def test_host_loopback_listener_unreachable(request: pytest.FixtureRequest, kind: str) -> None:
    if kind == "plain":
        pytest.skip("plain process backend shares the host network: not a security boundary")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    code = f"""
        import os, socket
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect(("127.0.0.1", {port}))
            print("CONNECTED")
        except OSError as exc:
            print("refused", exc.errno)
    """
    try:
        result = backend_of(request, kind).run(job(code))
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    assert result.stdout.startswith(b"refused"), result


@BOTH
def test_inside_identity_caps_and_readonly_root(request: pytest.FixtureRequest, kind: str) -> None:
    if kind == "plain":
        pytest.skip("plain process backend has the host's root filesystem writable as its uid")
    code = """
        import errno, json, os
        status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
        try:
            open("/escape", "w")
            root = "writable"
        except OSError as exc:
            root = errno.errorcode[exc.errno]
        print(json.dumps({"uid": os.getuid(), "root": root,
                          "CapEff": status["CapEff"].strip(), "CapBnd": status["CapBnd"].strip(),
                          "NoNewPrivs": status["NoNewPrivs"].strip(),
                          "visible": sorted(os.listdir("/"))}))
    """
    facts = json.loads(backend_of(request, kind).run(job(code)).stdout)
    assert facts["uid"] == 65534
    assert int(facts["CapEff"], 16) == 0 and int(facts["CapBnd"], 16) == 0
    assert facts["NoNewPrivs"] == "1"
    assert facts["root"] == "EROFS"
    assert "root" not in facts["visible"] and "home" not in facts["visible"]


@BOTH
def test_daemonized_grandchild_dies_with_sandbox(request: pytest.FixtureRequest, kind: str) -> None:
    if kind == "plain":
        pytest.skip("without a pid namespace a setsid() grandchild escapes the process group")
    marker = f"grader-orphan-{uuid.uuid4().hex}"
    code = f"""
        import os
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.close(0); os.close(1); os.close(2)
                os.execvp("python3", ["python3", "-c", "import time; time.sleep(600)", "{marker}"])
            os._exit(0)
        os.wait()
        print("parent done", flush=True)
    """
    result = backend_of(request, kind).run(job(code))
    assert result.exit_code == 0 and b"parent done" in result.stdout
    deadline = time.monotonic() + 5
    while host_processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_processes_with(marker) == []


# -- cpu_usage(): CPU time measured from the host ---------------------------------

def own_run_cgroups(backend: ProcessSandbox) -> list[str]:
    """Run cgroups of this test process that exist now."""
    assert backend.cgroups is not None
    return [path.name for path in backend.cgroups.own_runs()]


@BOTH
def test_cpu_usage_counts_busy_not_idle(request: pytest.FixtureRequest, kind: str) -> None:
    backend = backend_of(request, kind)
    with backend.start(job(CPU_SERVER)) as run:
        assert cpu_of(run, b"busy") >= 0.15
        assert cpu_of(run, b"idle") < 0.05
        run.close_stdin()
        result = run.wait(timeout=15)
        last = run.cpu_usage()
    assert result.exit_code == 0
    assert last is not None and run.cpu_usage() == last  # after the end: the last value
    if backend.cgroups is not None or kind == "plain":  # bwrap's own rusage misses the program
        assert result.cpu_time is not None and result.cpu_time >= 0.15


@BOTH
def test_cpu_usage_includes_exited_forked_child(request: pytest.FixtureRequest, kind: str) -> None:
    backend = backend_of(request, kind)
    if backend.cgroups is None:
        pytest.skip("needs root and a writable cgroupfs; the /proc fallback misses exited children")
    with backend.start(job(CPU_SERVER)) as run:
        assert cpu_of(run, b"fork") >= 0.15  # the child burnt ~0.3 s and is gone
        # So did 30 short-lived ones; no polling meanwhile, which would let a
        # live-tree sampler see some of them.
        assert cpu_of(run, b"forks", poll=False) >= 0.15
        run.close_stdin()
        assert run.wait(timeout=15).exit_code == 0


@BOTH
def test_cpu_usage_from_proc_without_cgroups(kind: str) -> None:
    backend = ProcessSandbox(use_bwrap=kind == "bwrap", use_cgroups=False)
    if kind == "bwrap" and backend.bwrap is None:
        pytest.skip("bubblewrap missing or user namespaces disabled on this host")
    with backend.start(job(CPU_SERVER)) as run:
        assert cpu_of(run, b"busy") >= 0.15
        assert cpu_of(run, b"idle") < 0.05
        run.close_stdin()
        assert run.wait(timeout=15).exit_code == 0


@BOTH
def test_no_run_cgroup_left_behind(request: pytest.FixtureRequest, kind: str) -> None:
    backend = backend_of(request, kind)
    if backend.cgroups is None:
        pytest.skip("needs root and a writable cgroupfs")
    marker = f"grader-cgroup-orphan-{uuid.uuid4().hex}"
    # A setsid() grandchild escapes the process group; the run's cgroup still holds it.
    code = f"""
        import os, sys
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.close(0); os.close(1); os.close(2)
                os.execvp("python3", ["python3", "-c", "import time; time.sleep(600)", "{marker}"])
            os._exit(0)
        os.wait()
        print("parent done", flush=True)
        sys.stdin.read()
    """
    assert own_run_cgroups(backend) == []
    with backend.start(job(code)) as run:
        assert run.recv(64, timeout=15) == b"parent done\n"
        assert len(own_run_cgroups(backend)) == 1  # the run is in a cgroup of its own
        run.close_stdin()
        result = run.wait(timeout=15)
    assert result.exit_code == 0 and result.cpu_time is not None
    assert own_run_cgroups(backend) == []
    deadline = time.monotonic() + 5
    while host_processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_processes_with(marker) == []
