"""The Docker backend against a real daemon: hostile programs and every hardening option.

Each hardening option of ``sandbox.docker_backend.host_config_options`` has a
test here that fails if the option is removed: the container's inspected
HostConfig during the run, plus a behavioural check from inside where one is
practical (see docs/security.md for the table).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import socket
import stat
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from sandbox import (
    DockerSandbox,
    RuntimeMissing,
    SandboxJob,
    SandboxLimits,
    SandboxStartError,
)
from sandbox.docker_socket import MOUNT_POINT, channel_base
from sandbox.reaper import DEADLINE_LABEL, LABEL, OWNER_LABEL

from .cpu_probe import CPU_SERVER, cpu_of

pytestmark = pytest.mark.docker

MiB = 2**20
FAST = SandboxLimits(wall_timeout=20.0)


def job(
    code: str, limits: SandboxLimits = FAST, files: dict[str, bytes] | None = None
) -> SandboxJob:
    """A job running ``code`` as main.py (not -I: the work dir must be on sys.path)."""
    return SandboxJob(
        argv=["python3", "-S", "main.py"],
        files={"main.py": textwrap.dedent(code).encode(), **(files or {})},
        limits=limits,
    )


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


# -- a probe run: HostConfig inspected during the run + facts from inside -----

PROBE = r"""
import ctypes, errno, json, os, resource, socket, stat, sys

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()

def mount_opts(target):
    for line in open("/proc/self/mounts"):
        dev, mnt, fstype, opts = line.split()[:4]
        if mnt == target:
            return {"fstype": fstype, "opts": opts.split(",")}

def errno_of(fn):
    try:
        fn()
    except OSError as exc:
        return exc.errno
    return 0

def read(path):
    try:
        return open(path).read().strip()
    except OSError:
        return None

def write_root():
    open("/probe-root-write", "w").write("x")

def connect_channel():
    socket.socket(socket.AF_UNIX).connect("/grader-channel/s")

def write_channel():
    open("/grader-channel/x", "w").write("x")

def exec_from_tmp():
    with open("/tmp/run.sh", "w") as fh:
        fh.write("#!/bin/sh\necho hi\n")
    os.chmod("/tmp/run.sh", 0o755)
    pid = os.fork()
    if pid == 0:
        try:
            os.execv("/tmp/run.sh", ["/tmp/run.sh"])
        except OSError as exc:
            os._exit(exc.errno)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

def unshare_userns():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
        raise OSError(ctypes.get_errno(), "unshare")

def keyctl():
    libc = ctypes.CDLL(None, use_errno=True)
    # add_key(2) is syscall 248 on x86_64; Docker's default seccomp profile denies it.
    if libc.syscall(248, b"user", b"probe", b"x", 1, -3) < 0:
        raise OSError(ctypes.get_errno(), "add_key")

cg = "/sys/fs/cgroup"
facts = {
    "uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(),
    "CapEff": status("CapEff"), "CapBnd": status("CapBnd"), "CapPrm": status("CapPrm"),
    "NoNewPrivs": status("NoNewPrivs"), "Seccomp": status("Seccomp"),
    "env": dict(os.environ),
    "rlimits": {n: resource.getrlimit(getattr(resource, "RLIMIT_" + n.upper()))
                for n in ("nofile", "fsize", "core", "cpu")},
    "mounts": {m: mount_opts(m) for m in ("/", "/tmp", "/work", "/grader-channel")},
    "channel_files": os.listdir("/grader-channel") if os.path.isdir("/grader-channel") else None,
    "channel_connect_errno": errno_of(connect_channel),
    "channel_write_errno": errno_of(write_channel),
    "stdin_stdout_are_sockets": [stat.S_ISSOCK(os.fstat(fd).st_mode) for fd in (0, 1)],
    "root_write_errno": errno_of(write_root),
    "tmp_exec_errno": exec_from_tmp(),
    "unshare_errno": errno_of(unshare_userns),
    "keyctl_errno": errno_of(keyctl),
    "net": sorted(os.listdir("/sys/class/net")),
    "pid1": open("/proc/1/cmdline", "rb").read().split(b"\0")[0].decode(),
    "ipc_ns": os.readlink("/proc/self/ns/ipc"),
    "mem_limit": read(cg + "/memory/memory.limit_in_bytes") or read(cg + "/memory.max"),
    "memsw_limit": read(cg + "/memory/memory.memsw.limit_in_bytes"),
    "swap_max": read(cg + "/memory.swap.max"),
    "cpu_quota": read(cg + "/cpu/cpu.cfs_quota_us") or read(cg + "/cpu.max"),
    "cpu_period": read(cg + "/cpu/cpu.cfs_period_us"),
    "pids_max": read(cg + "/pids/pids.max") or read(cg + "/pids.max"),
}
print(json.dumps(facts), flush=True)
sys.stdin.read()  # stay alive while the host inspects the container
"""

PROBE_LIMITS = SandboxLimits(
    wall_timeout=30.0,
    cpu_seconds=7,
    memory_bytes=96 * MiB,
    pids=24,
    tmpfs_bytes=8 * MiB,
    output_bytes=1 * MiB,
    open_files=48,
    file_size_bytes=4 * MiB,
    cpus=0.5,
)


class Probe:
    """What the probe saw inside, and what the daemon said about its container."""

    def __init__(self, facts: dict[str, Any], attrs: dict[str, Any], logs_error: str) -> None:
        self.facts = facts
        self.attrs = attrs
        self.host = attrs["HostConfig"]
        self.config = attrs["Config"]
        self.logs_error = logs_error


@pytest.fixture(scope="module")
def probe(docker_backend: DockerSandbox) -> Iterator[Probe]:
    """Run the probe once; the container is removed before any test body runs."""
    canary = "GRADER_HOST_SECRET_CANARY"
    os.environ[canary] = "leak-me"
    try:
        with docker_backend.start(job(PROBE, PROBE_LIMITS)) as run:
            line = b""
            while not line.endswith(b"\n"):
                chunk = run.recv(65536, timeout=20)
                assert chunk, f"probe ended early: {run.kill()}"
                line += chunk
            assert run.container_id is not None
            cid = run.container_id
            attrs = docker_backend.api.inspect_container(cid)
            try:
                docker_backend.api.logs(cid)
                logs_error = ""
            except Exception as exc:  # the "none" driver cannot be read
                logs_error = str(exc)
            run.close_stdin()
            result = run.wait(timeout=20)
    finally:
        del os.environ[canary]
    assert result.exit_code == 0, result
    yield Probe(json.loads(line), attrs, logs_error)


def test_network_none(probe: Probe) -> None:
    assert probe.host["NetworkMode"] == "none"
    assert probe.config.get("NetworkDisabled") is True
    assert probe.facts["net"] == ["lo"]


def test_read_only_root(probe: Probe) -> None:
    assert probe.host["ReadonlyRootfs"] is True
    assert probe.facts["root_write_errno"] == 30  # EROFS
    assert "ro" in probe.facts["mounts"]["/"]["opts"]


@pytest.mark.parametrize("target", ["/tmp", "/work"])
def test_tmpfs_noexec_nosuid_nodev_sized(probe: Probe, target: str) -> None:
    options = probe.host["Tmpfs"][target].split(",")
    assert {"noexec", "nosuid", "nodev", f"size={PROBE_LIMITS.tmpfs_bytes}"} <= set(options)
    mount = probe.facts["mounts"][target]
    assert mount["fstype"] == "tmpfs"
    assert {"noexec", "nosuid", "nodev", "rw"} <= set(mount["opts"])
    assert f"size={PROBE_LIMITS.tmpfs_bytes // 1024}k" in mount["opts"]


def test_tmp_is_noexec_behaviour(probe: Probe) -> None:
    assert probe.facts["tmp_exec_errno"] == 13  # EACCES from execve on a noexec mount


def test_non_root_user(probe: Probe) -> None:
    assert probe.config["User"] == "65534:65534"
    assert probe.facts["uid"] == 65534 and probe.facts["gid"] == 65534
    assert probe.facts["cwd"] == "/work"


def test_cap_drop_all(probe: Probe) -> None:
    assert probe.host["CapDrop"] == ["ALL"]
    assert int(probe.facts["CapBnd"], 16) == 0  # bounding set empty: caps cannot come back
    assert int(probe.facts["CapEff"], 16) == 0
    assert int(probe.facts["CapPrm"], 16) == 0


def test_no_new_privileges(probe: Probe) -> None:
    assert "no-new-privileges" in probe.host["SecurityOpt"]
    assert probe.facts["NoNewPrivs"] == "1"


def test_default_seccomp_profile(probe: Probe) -> None:
    assert not any("seccomp" in opt for opt in probe.host["SecurityOpt"] or [])
    assert probe.facts["Seccomp"] == "2"  # filter mode
    assert probe.facts["unshare_errno"] == 1  # EPERM
    assert probe.facts["keyctl_errno"] == 1  # add_key denied by the profile (EPERM)


def test_pids_limit(probe: Probe) -> None:
    assert probe.host["PidsLimit"] == PROBE_LIMITS.pids
    assert probe.facts["pids_max"] == str(PROBE_LIMITS.pids)


def test_memory_equals_memswap(probe: Probe) -> None:
    assert probe.host["Memory"] == PROBE_LIMITS.memory_bytes
    assert probe.host["MemorySwap"] == PROBE_LIMITS.memory_bytes
    assert probe.facts["mem_limit"] == str(PROBE_LIMITS.memory_bytes)
    if probe.facts["memsw_limit"] is not None:  # cgroup v1 with swap accounting
        assert probe.facts["memsw_limit"] == str(PROBE_LIMITS.memory_bytes)
    if probe.facts["swap_max"] is not None:  # cgroup v2
        assert probe.facts["swap_max"] == "0"


def test_cpu_quota(probe: Probe) -> None:
    assert probe.host["NanoCpus"] == int(PROBE_LIMITS.cpus * 1e9)
    quota = probe.facts["cpu_quota"]
    if probe.facts["cpu_period"] is not None:  # cgroup v1
        assert int(quota) / int(probe.facts["cpu_period"]) == PROBE_LIMITS.cpus
    else:
        q, period = quota.split()
        assert int(q) / int(period) == PROBE_LIMITS.cpus


def test_ulimits(probe: Probe) -> None:
    lim = PROBE_LIMITS
    ulimits = {u["Name"]: (u["Soft"], u["Hard"]) for u in probe.host["Ulimits"]}
    expected = {
        "nofile": (lim.open_files, lim.open_files),
        "fsize": (lim.file_size_bytes, lim.file_size_bytes),
        "core": (0, 0),
        "cpu": (lim.cpu_seconds, lim.cpu_seconds + 1),
    }
    assert ulimits == expected
    assert {k: tuple(v) for k, v in probe.facts["rlimits"].items()} == expected


def test_ipc_private(probe: Probe) -> None:
    assert probe.host["IpcMode"] == "private"
    assert probe.facts["ipc_ns"] != os.readlink("/proc/self/ns/ipc")


def test_init_process(probe: Probe) -> None:
    assert probe.host["Init"] is True
    assert os.path.basename(probe.facts["pid1"]) in ("docker-init", "tini", "tini-static")


def test_empty_environment(probe: Probe) -> None:
    assert probe.config["Env"] == ["PATH=/usr/local/bin:/usr/bin:/bin"]
    # Python itself adds LC_CTYPE (PEP 538); nothing of the host's comes in.
    assert set(probe.facts["env"]) <= {"PATH", "LC_CTYPE"}
    assert "GRADER_HOST_SECRET_CANARY" not in json.dumps(probe.attrs)


def test_log_driver_none(probe: Probe) -> None:
    assert probe.host["LogConfig"]["Type"] == "none"
    assert "logging driver does not support reading" in probe.logs_error


def test_label_present(probe: Probe) -> None:
    labels = probe.config["Labels"]
    assert labels[LABEL] == "1"
    assert OWNER_LABEL in labels and DEADLINE_LABEL in labels


def test_not_privileged_no_mount_but_the_channel(probe: Probe) -> None:
    """The one host directory a container sees is its socket channel's: read-only, in this
    user's private directory, and empty before the program starts."""
    assert probe.host["Privileged"] is False
    assert not probe.host.get("Binds")
    binds = [m for m in probe.attrs["Mounts"] if m["Type"] == "bind"]
    assert [(m["Destination"], m["RW"]) for m in binds] == [(MOUNT_POINT, False)]
    source = Path(binds[0]["Source"])
    assert source.parent == channel_base()
    assert stat.S_IMODE(channel_base().stat().st_mode) == 0o700
    assert not source.exists()  # removed on the host once the bootstrap connected
    assert "ro" in probe.facts["mounts"][MOUNT_POINT]["opts"]


def test_the_program_talks_over_the_socket_and_cannot_open_another(probe: Probe) -> None:
    assert probe.facts["stdin_stdout_are_sockets"] == [True, True]
    assert probe.facts["channel_files"] == []
    assert probe.facts["channel_connect_errno"] == errno.ENOENT
    # Read-only, and by then deleted on the host as well.
    assert probe.facts["channel_write_errno"] in (errno.EROFS, errno.EACCES, errno.ENOENT)


def test_attach_channel_when_asked(docker_backend: DockerSandbox) -> None:
    """Without a socket channel (a daemon elsewhere, or another runtime): no mount, the attach
    stream is the channel, and it works the same."""
    attach = DockerSandbox(socket_channel=False, reap_leftovers=False)
    code = """
        import os, stat, sys
        print(os.path.exists("/grader-channel"), stat.S_ISSOCK(os.fstat(0).st_mode))
        print(sys.stdin.read().upper())
    """
    try:
        result = attach.run(job(code), stdin=b"over attach")
    finally:
        attach.close()
    assert result.stdout == b"False False\nOVER ATTACH\n"


# -- hostile programs -------------------------------------------------------------


def test_basic_files_argv_stdin(docker_sandbox: DockerSandbox) -> None:
    code = """
        import sys, pkg.mod
        data = sys.stdin.buffer.read()
        sys.stdout.buffer.write(data[::-1] + pkg.mod.X)
        print("warn", file=sys.stderr)
        sys.exit(7)
    """
    result = docker_sandbox.run(
        job(code, files={"pkg/__init__.py": b"", "pkg/mod.py": b"X = b'!'"}), stdin=b"abc"
    )
    assert result.exit_code == 7 and result.signal is None
    assert result.stdout == b"cba!"
    assert result.stderr == b"warn\n"
    assert not (result.timed_out or result.memory_killed or result.output_truncated)


def test_channel_round_trips_and_large_transfer(docker_sandbox: DockerSandbox) -> None:
    code = """
        import sys
        for line in sys.stdin.buffer:
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()
    """
    with docker_sandbox.start(job(code, FAST.replace(output_bytes=8 * MiB))) as run:
        for i in range(50):
            run.send(b"msg %d\n" % i)
            got = b""
            while not got.endswith(b"\n"):
                got += run.recv(4096, timeout=10)
            assert got == b"msg %d\n" % i
        blob = os.urandom(3 * MiB).replace(b"\n", b"x") + b"\n"
        sender = threading.Thread(target=run.send, args=(blob,))
        sender.start()  # the program echoes while we still send: no deadlock
        received = bytearray()
        while len(received) < len(blob):
            received += run.recv(1 << 20, timeout=10)
        sender.join()
        assert bytes(received) == blob
        run.close_stdin()
        assert run.recv(10, timeout=10) == b""
        result = run.wait(timeout=10)
    assert result.exit_code == 0 and result.stdout == b""


def test_fork_bomb_stopped_by_pids_limit(docker_sandbox: DockerSandbox) -> None:
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
                try:
                    os.fork()  # grandchildren too: it is a bomb
                except OSError:
                    pass
                time.sleep(60)
                os._exit(0)
            ok += 1
        print(ok, failed, flush=True)
    """
    started = time.monotonic()
    result = docker_sandbox.run(job(code, FAST.replace(pids=32)))
    assert time.monotonic() - started < 15
    assert not result.timed_out
    ok, failed = map(int, result.stdout.split())
    assert ok < 32 and failed > 0
    assert result.exit_code == 0


def test_memory_bomb_reported_as_memory_killed(docker_sandbox: DockerSandbox) -> None:
    code = """
        hog = []
        while True:
            hog.append(b"\\x01" * (8 * 2**20))  # touched pages, not lazily zeroed
    """
    result = docker_sandbox.run(job(code, FAST.replace(memory_bytes=64 * MiB)))
    assert result.memory_killed, result
    assert result.signal == 9 and not result.timed_out


def test_infinite_loop_killed_at_wall_limit(docker_sandbox: DockerSandbox) -> None:
    started = time.monotonic()
    result = docker_sandbox.run(job("while True: pass", FAST.replace(wall_timeout=2.0)))
    elapsed = time.monotonic() - started
    assert result.timed_out and result.signal == 9
    assert elapsed < 2.0 + 2.0, elapsed
    assert 2.0 <= result.wall_time < 4.0


def test_sleeping_program_killed_at_wall_limit(docker_sandbox: DockerSandbox) -> None:
    started = time.monotonic()
    result = docker_sandbox.run(job("import time; time.sleep(600)", FAST.replace(wall_timeout=1.5)))
    assert result.timed_out and time.monotonic() - started < 3.5


def test_gigabyte_of_stdout_truncated_memory_bounded(docker_sandbox: DockerSandbox) -> None:
    code = """
        import sys
        chunk = b"x" * 2**20
        for _ in range(1024):
            sys.stdout.buffer.write(chunk)
    """
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    result = docker_sandbox.run(job(code, FAST.replace(output_bytes=1 * MiB, wall_timeout=30)))
    assert result.output_truncated
    assert len(result.stdout) == 1 * MiB
    assert not result.timed_out and time.monotonic() - started < 20
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kib < 64 * 1024, f"host RSS grew by {grown_kib} KiB"


def test_stderr_flood_truncated(docker_sandbox: DockerSandbox) -> None:
    code = """
        import sys
        while True:
            sys.stderr.write("e" * 65536)
    """
    result = docker_sandbox.run(job(code, FAST.replace(output_bytes=256 * 1024)))
    assert result.output_truncated and len(result.stderr) == 256 * 1024
    assert not result.timed_out


@pytest.mark.parametrize("target", ["/work", "/tmp"])
def test_disk_fill_stopped_by_tmpfs_size(docker_sandbox: DockerSandbox, target: str) -> None:
    code = f"""
        import errno, os
        total, n = 0, 0
        try:
            while True:
                with open("{target}/fill%d" % n, "wb") as fh:
                    for _ in range(16):
                        fh.write(b"z" * 65536)
                        fh.flush()
                        total += 65536
                n += 1
        except OSError as exc:
            print(errno.errorcode[exc.errno], total)
    """
    result = docker_sandbox.run(job(code, FAST.replace(tmpfs_bytes=4 * MiB)))
    name, total = result.stdout.split()
    assert name == b"ENOSPC"
    assert int(total) <= 4 * MiB


def test_file_size_limit(docker_sandbox: DockerSandbox) -> None:
    code = """
        import errno, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        try:
            with open("big", "wb") as fh:
                fh.write(b"z" * (3 * 2**20))
        except OSError as exc:
            print(errno.errorcode[exc.errno])
    """
    result = docker_sandbox.run(job(code, FAST.replace(file_size_bytes=1 * MiB)))
    assert result.stdout.strip() == b"EFBIG"


def test_host_loopback_listener_unreachable(docker_sandbox: DockerSandbox) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    code = f"""
        import socket
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect(("127.0.0.1", {port}))
            print("CONNECTED")
        except OSError as exc:
            print("refused", exc.errno)
    """
    try:
        result = docker_sandbox.run(job(code))
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    assert result.stdout.startswith(b"refused"), result.stdout


def test_daemonized_grandchild_dies_with_sandbox(docker_sandbox: DockerSandbox) -> None:
    marker = f"grader-orphan-{uuid.uuid4().hex}"
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
    """
    result = docker_sandbox.run(job(code))
    assert result.exit_code == 0 and b"parent done" in result.stdout
    deadline = time.monotonic() + 5
    while host_processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_processes_with(marker) == []


def test_no_container_left_after_host_exception(docker_sandbox: DockerSandbox) -> None:
    ids = []
    with (
        pytest.raises(RuntimeError, match="host side failure"),
        docker_sandbox.start(job("import time; time.sleep(600)")) as run,
    ):
        ids.append(run.container_id)
        raise RuntimeError("host side failure")
    assert docker_sandbox.api.containers(all=True, filters={"id": ids[0]}) == []


def test_no_container_left_after_keyboard_interrupt(docker_sandbox: DockerSandbox) -> None:
    with (
        pytest.raises(KeyboardInterrupt),
        docker_sandbox.start(job("import time; time.sleep(600)")) as run,
    ):
        cid = run.container_id
        raise KeyboardInterrupt
    assert docker_sandbox.api.containers(all=True, filters={"id": cid}) == []


def test_kill_is_idempotent_and_removes(docker_sandbox: DockerSandbox) -> None:
    run = docker_sandbox.start(job("import time; time.sleep(600)"))
    first = run.kill()
    assert run.kill() is first and run.wait() is first
    assert first.signal == 9 and not first.timed_out
    cid = run.container_id
    assert docker_sandbox.api.containers(all=True, filters={"id": cid}) == []


def test_program_not_found_is_exit_127(docker_sandbox: DockerSandbox) -> None:
    result = docker_sandbox.run(SandboxJob(argv=["no-such-program"], limits=FAST))
    assert result.exit_code == 127 and b"cannot run" in result.stderr


def test_files_too_big_for_tmpfs_is_start_error(docker_sandbox: DockerSandbox) -> None:
    big = SandboxJob(
        argv=["python3", "-c", "pass"],
        files={"big.bin": b"\0" * (2 * MiB)},
        limits=FAST.replace(tmpfs_bytes=1 * MiB),
    )
    with pytest.raises(SandboxStartError, match="bootstrap failed"):
        docker_sandbox.start(big)


def test_reaper_removes_leftovers_only(docker_sandbox: DockerSandbox) -> None:
    api = docker_sandbox.api
    dead_pid = 4_000_000
    while True:
        try:
            os.kill(dead_pid, 0)
            dead_pid -= 1
        except ProcessLookupError:
            break
    base = {LABEL: "1", DEADLINE_LABEL: str(int(time.time()) + 3600)}
    host = socket.gethostname()
    # Created, never started: no untrusted code runs in these.
    crashed = api.create_container(
        docker_sandbox.image, ["true"], labels={**base, OWNER_LABEL: f"{host}:{dead_pid}"}
    )["Id"]
    overdue = api.create_container(
        docker_sandbox.image,
        ["true"],
        labels={LABEL: "1", OWNER_LABEL: f"{host}:{os.getpid()}", DEADLINE_LABEL: "1"},
    )["Id"]
    live = api.create_container(
        docker_sandbox.image, ["true"], labels={**base, OWNER_LABEL: f"{host}:{os.getpid()}"}
    )["Id"]
    try:
        DockerSandbox(docker_sandbox.image)  # reaps at backend start
        remaining = {c["Id"] for c in api.containers(all=True, filters={"label": f"{LABEL}=1"})}
        assert crashed not in remaining and overdue not in remaining
        assert live in remaining
    finally:
        for cid in (crashed, overdue, live):
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(cid, v=True, force=True)


def test_unknown_runtime_is_runtime_missing(docker_backend: DockerSandbox) -> None:
    with pytest.raises(RuntimeMissing, match="no-such-runtime"):
        DockerSandbox(docker_backend.image, runtime="no-such-runtime")


def test_cpu_time_measured_for_busy_program(docker_sandbox: DockerSandbox) -> None:
    code = """
        import time
        # Burn CPU time, not wall time: on a loaded host a wall-clock loop gets little CPU.
        while time.process_time() < 0.6:
            pass
    """
    result = docker_sandbox.run(job(code))
    assert result.exit_code == 0
    assert result.cpu_time is not None and result.cpu_time > 0.2


# -- cpu_usage(): the container's cgroup counter, read from the host -------------

def test_cpu_usage_counts_busy_not_idle(docker_sandbox: DockerSandbox) -> None:
    with docker_sandbox.start(job(CPU_SERVER)) as run:
        assert cpu_of(run, b"busy") >= 0.15
        assert cpu_of(run, b"idle") < 0.05
        run.close_stdin()
        result = run.wait(timeout=30)
    assert result.exit_code == 0 and result.cpu_time is not None and result.cpu_time >= 0.15
    last = run.cpu_usage()  # the cgroup is gone: the last value, no error
    assert last is not None and last >= 0.15


def test_cpu_usage_includes_exited_forked_children(docker_sandbox: DockerSandbox) -> None:
    with docker_sandbox.start(job(CPU_SERVER)) as run:
        assert cpu_of(run, b"fork") >= 0.15  # the child burnt ~0.3 s and is gone
        assert cpu_of(run, b"forks", poll=False) >= 0.15  # so did 30 short-lived ones
        run.close_stdin()
        assert run.wait(timeout=30).exit_code == 0
