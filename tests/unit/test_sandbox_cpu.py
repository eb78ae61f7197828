"""SandboxRun.cpu_usage(): the fake counter, the /proc fallback, cgroup helpers, Docker's reader.

Real cgroups are exercised in tests/integration; here a temporary directory
stands in for a cgroup hierarchy wherever the logic does not need the kernel.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types
from pathlib import Path

import pytest

from sandbox import (
    FakeIO,
    FakeSandbox,
    ProcessSandbox,
    SandboxJob,
    SandboxLimits,
    cgroup,
    docker_backend,
    process_backend,
)
from sandbox.cgroup import (
    CPU_STAT,
    CPUACCT_USAGE,
    CgroupTree,
    cpu_hierarchies,
    owner_alive,
    parse_cpu_counter,
    parse_run_group_name,
    process_start_time,
    read_cpu_counter,
    run_group_name,
)
from sandbox.proctree import TreeCpuMeter

JOB = SandboxJob(argv=["python3", "main.py"], files={"main.py": b""})

BURN = """
    import os, sys, time

    def burn(seconds):
        start = time.process_time()
        while time.process_time() - start < seconds:
            pass
"""


def script(body: str) -> str:
    """A Python program: a ``burn(seconds)`` CPU loop, then ``body``."""
    return textwrap.dedent(BURN) + textwrap.dedent(body)


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


# -- the fake backend ----------------------------------------------------------


def test_fake_cpu_counter_advances_with_burn_and_can_be_set() -> None:
    step = threading.Event()

    def program(io: FakeIO) -> None:
        io.burn(0.25)
        io.write(b"burnt\n")
        step.wait(5)
        io.burn(1.0)

    with FakeSandbox(program).start(JOB) as run:
        assert run.recv(10, timeout=5) == b"burnt\n"
        assert run.cpu_usage() == pytest.approx(0.25)
        run.set_cpu(10.0)
        assert run.cpu_usage() == 10.0
        step.set()
        result = run.wait(timeout=5)
    assert result.cpu_time == pytest.approx(11.0) and run.cpu_usage() == pytest.approx(11.0)


def test_fake_that_cannot_measure_reports_none() -> None:
    def program(io: FakeIO) -> None:
        io.burn(1.0)

    backend = FakeSandbox(program, measure_cpu=False)
    with backend.start(JOB) as run:
        result = run.wait(timeout=5)
        assert run.cpu_usage() is None
    assert result.cpu_time is None


def test_base_run_cannot_measure_by_default() -> None:
    from sandbox.base import SandboxRun

    assert SandboxRun.cpu_usage(types.SimpleNamespace()) is None  # type: ignore[arg-type]


# -- counter parsing -------------------------------------------------------------


def test_parse_cpuacct_usage_and_cpu_stat(tmp_path: Path) -> None:
    assert parse_cpu_counter(CPUACCT_USAGE, b"1500000000\n") == 1.5
    stat = b"usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n"
    assert parse_cpu_counter(CPU_STAT, stat) == 2.5
    with pytest.raises(ValueError):
        parse_cpu_counter(CPU_STAT, b"user_usec 1\n")
    (tmp_path / CPU_STAT).write_bytes(stat)
    assert read_cpu_counter(tmp_path / CPU_STAT) == 2.5


# -- the /proc fallback --------------------------------------------------------------


def test_tree_meter_counts_a_busy_child_and_its_children_and_never_decreases() -> None:
    code = script("""
    pid = os.fork()
    if pid == 0:
        burn(0.3)
        os.write(1, b"grandchild %d\\n" % os.getpid())  # one write: lines never mix
        time.sleep(60)
        os._exit(0)
    burn(0.3)
    os.write(1, b"child\\n")
    os.waitpid(pid, 0)
    os.write(1, b"reaped\\n")
    sys.stdin.read()
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        lines = sorted([child.stdout.readline().split(), child.stdout.readline().split()])
        assert [line[0] for line in lines] == [b"child", b"grandchild"]
        meter = TreeCpuMeter(child.pid)
        both = meter.sample()
        assert both >= 0.3  # ~0.6 s: the child and its child
        os.kill(int(lines[1][1]), signal.SIGKILL)
        assert child.stdout.readline() == b"reaped\n"
        assert meter.sample() >= both  # the exited grandchild keeps what it was seen using
    finally:
        child.kill()
        child.wait()


def test_tree_meter_of_a_busy_plain_subprocess() -> None:
    code = script("""
    burn(0.3)
    print("done", flush=True)
    sys.stdin.read()
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        meter = TreeCpuMeter(child.pid)
        start = meter.sample()
        assert child.stdout.readline() == b"done\n"
        assert meter.sample() - start >= 0.15
    finally:
        child.kill()
        child.wait()


def test_process_backend_without_cgroups_measures_from_proc() -> None:
    code = script("""
    sys.stdin.readline()
    burn(0.3)
    print("done", flush=True)
    sys.stdin.read()
    """)
    job = SandboxJob(
        argv=["python3", "-S", "main.py"],
        files={"main.py": code.encode()},
        limits=SandboxLimits(wall_timeout=20),
    )
    backend = ProcessSandbox(use_bwrap=False, use_cgroups=False)
    assert backend.cgroups is None
    with backend.start(job) as run:
        before = run.cpu_usage()
        assert before is not None
        run.send(b"go\n")
        assert run.recv(10, timeout=15) == b"done\n"
        after = run.cpu_usage()
        assert after is not None and after - before >= 0.15
        run.close_stdin()
        result = run.wait(timeout=15)
    assert result.exit_code == 0
    last = run.cpu_usage()
    assert last is not None and last >= after  # the last value stays after the end


# -- cgroup helpers (a temporary directory as the hierarchy) -------------------------


def test_run_group_names_carry_the_owner_pid_and_start_time() -> None:
    name = run_group_name()
    owner = parse_run_group_name(name)
    assert owner == (os.getpid(), process_start_time(os.getpid()))
    assert owner is not None and owner_alive(*owner)
    assert run_group_name() != name
    assert parse_run_group_name("docker") is None and parse_run_group_name("run-1-x-2") is None


def test_owner_alive_checks_pid_and_start_time() -> None:
    start = process_start_time(os.getpid())
    assert start is not None
    assert not owner_alive(os.getpid(), start + 1)  # pid reused by another process
    assert not owner_alive(dead_pid(), start)


def test_remove_leftovers_only_of_dead_owners(tmp_path: Path) -> None:
    tree = CgroupTree(tmp_path, CPUACCT_USAGE)
    mine = tree.create_run()
    start = process_start_time(os.getpid()) or 0
    dead = tree.parent / f"run-{dead_pid()}-{start}-1"
    reused = tree.parent / f"run-{os.getpid()}-{start + 1}-1"
    busy = tree.parent / f"run-{dead_pid()}-{start}-2"
    other = tree.parent / "something-else"
    for path in (dead, reused, busy, other):
        path.mkdir()
    (busy / "cgroup.procs").write_text("123\n")  # not empty: rmdir fails, as with tasks in it
    removed = tree.remove_leftovers()
    assert sorted(removed) == sorted([dead, reused])
    assert mine.path.is_dir() and busy.is_dir() and other.is_dir()
    assert not dead.exists() and not reused.exists()
    assert tree.own_runs() == [mine.path]
    assert mine.remove() and tree.own_runs() == []


def test_run_group_reads_its_counter_and_lists_pids(tmp_path: Path) -> None:
    tree = CgroupTree(tmp_path, CPU_STAT)
    run = tree.create_run()
    assert run.path.parent == tmp_path / "hidden-grader"
    assert run.path.name.startswith(f"run-{os.getpid()}-")
    (run.path / CPU_STAT).write_text("usage_usec 300000\n")
    (run.path / "cgroup.procs").write_text("")
    assert run.cpu_seconds() == 0.3 and run.pids() == [] and run.wait_empty(0.1)
    (run.path / "cgroup.procs").write_text(f"{os.getpid()}\n")
    assert run.contains(os.getpid())


def test_cpu_hierarchies_from_mountinfo_prefer_cgroup_v1_cpuacct() -> None:
    mountinfo = textwrap.dedent(r"""
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        41 31 0:38 / /sys/fs/cgroup/uni\040fied rw,relatime - cgroup2 cgroup2 rw
        33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
        22 1 0:5 / /proc rw - proc proc rw
    """)
    assert cpu_hierarchies(mountinfo) == [
        CgroupTree(Path("/sys/fs/cgroup/cpu,cpuacct"), CPUACCT_USAGE),
        CgroupTree(Path("/sys/fs/cgroup/uni fied"), CPU_STAT),
    ]


def test_backend_start_removes_leftovers_of_dead_graders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = CgroupTree(tmp_path, CPUACCT_USAGE)
    live = tree.create_run()
    dead = tree.parent / f"run-{dead_pid()}-1-1"
    dead.mkdir()
    monkeypatch.setattr(process_backend, "find_cpu_tree", lambda: tree)
    backend = ProcessSandbox(use_bwrap=False)
    assert backend.cgroups is tree
    assert not dead.exists() and live.path.is_dir()
    live.remove()


def test_run_falls_back_to_proc_when_the_child_did_not_join(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plain directory is no cgroupfs: the join fails, the parent notices.
    tree = CgroupTree(tmp_path, CPUACCT_USAGE)
    monkeypatch.setattr(process_backend, "find_cpu_tree", lambda: tree)
    job = SandboxJob(
        argv=["python3", "-S", "main.py"],
        files={"main.py": script("burn(0.2)\nprint(1)\n").encode()},
        limits=SandboxLimits(wall_timeout=20),
    )
    with ProcessSandbox(use_bwrap=False).start(job) as run:
        assert tree.own_runs() == []  # given up at once
        usage = run.cpu_usage()
        assert usage is not None
        result = run.wait(timeout=15)
    assert result.exit_code == 0 and result.cpu_time is not None and result.cpu_time >= 0.1


def test_find_cpu_tree_only_where_writable() -> None:
    found = cgroup.find_cpu_tree()
    if found is not None:
        assert os.access(found.parent, os.W_OK)
        assert (found.parent / found.counter).exists()


# -- Docker: the container's counter, found once and read on demand --------------------


def docker_run(container_id: str | None) -> docker_backend.DockerRun:
    """A DockerRun that was never launched (only the CPU reader is used)."""
    backend = types.SimpleNamespace(api=None)
    run = docker_backend.DockerRun(backend, JOB)  # type: ignore[arg-type]
    run.container_id = container_id
    return run


def test_docker_cpu_usage_reads_and_caches_the_cgroup_counter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docker_backend, "CGROUP_ROOT", tmp_path)
    run = docker_run("abc123")
    assert run.cpu_usage() is None  # the cgroup does not exist (yet)
    counter = tmp_path / "cpuacct/docker/abc123/cpuacct.usage"
    counter.parent.mkdir(parents=True)
    counter.write_text("250000000\n")
    assert run.cpu_usage() == 0.25
    counter.write_text("750000000\n")
    run._sample()  # the watchdog tick shares the reader
    assert run._cpu == 0.75
    v2 = tmp_path / "docker/abc123/cpu.stat"
    v2.parent.mkdir(parents=True)
    v2.write_text("usage_usec 9000000\n")
    assert run.cpu_usage() == 0.75  # the resolved path is cached
    counter.unlink()
    assert run.cpu_usage() == 0.75  # cgroup gone at exit: the last value, no exception


def test_docker_cpu_usage_cgroup_v2_and_garbage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docker_backend, "CGROUP_ROOT", tmp_path)
    run = docker_run("def456")
    stat = tmp_path / "system.slice/docker-def456.scope/cpu.stat"
    stat.parent.mkdir(parents=True)
    stat.write_text("usage_usec 1250000\nuser_usec 1000000\n")
    assert run.cpu_usage() == 1.25
    stat.write_text("garbage\n")
    assert run.cpu_usage() == 1.25
    assert docker_run(None).cpu_usage() is None


def test_cpu_usage_is_cheap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_backend, "CGROUP_ROOT", tmp_path)
    run = docker_run("cheap")
    counter = tmp_path / "cpuacct/docker/cheap/cpuacct.usage"
    counter.parent.mkdir(parents=True)
    counter.write_text("1\n")
    start = time.perf_counter()
    for _ in range(200):
        run.cpu_usage()
    assert (time.perf_counter() - start) / 200 < 0.005  # generous: well under 1 ms in practice


# -- reading a counter at rest: a running task's time is not in it yet --------------------


def test_a_group_is_at_rest_once_none_of_its_tasks_runs(tmp_path: Path) -> None:
    """``wait_until_at_rest`` looks at the state of each task the group lists (here a
    directory standing in for the cgroup, listing real processes): a sleeping task is at
    rest, a spinning one is not until it ends."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    spinner = subprocess.Popen(
        [sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 1.0: pass"]
    )
    try:
        time.sleep(0.2)  # both started
        (tmp_path / "tasks").write_text(f"{sleeper.pid}\n")
        assert cgroup.wait_until_at_rest(tmp_path, 2.0)
        (tmp_path / "tasks").write_text(f"{sleeper.pid}\n{spinner.pid}\n")
        started = time.monotonic()
        assert not cgroup.wait_until_at_rest(tmp_path, 0.1)
        assert time.monotonic() - started >= 0.1
        assert cgroup.wait_until_at_rest(tmp_path, 10.0)  # the spinner ended (a zombie rests)
        (tmp_path / "tasks").write_text("")
        assert cgroup.wait_until_at_rest(tmp_path, 0.0)
    finally:
        for proc in (sleeper, spinner):
            proc.kill()
            proc.wait()


def test_a_cost_reading_waits_for_the_subject_to_be_at_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cpu_usage(settle=...)`` reads the counter only once the container's tasks rest, so
    that the time of a task still on its way back to waiting is in it."""
    monkeypatch.setattr(docker_backend, "CGROUP_ROOT", tmp_path)
    run = docker_run("busy")
    group = tmp_path / "cpuacct/docker/busy"
    group.mkdir(parents=True)
    (group / "cpuacct.usage").write_text("1000\n")
    seen: list[float] = []
    monkeypatch.setattr(
        cgroup, "wait_until_at_rest", lambda path, timeout: seen.append(timeout) or True
    )
    run.cpu_usage()
    assert seen == []  # a plain reading does not wait
    assert run.cpu_usage(settle=0.012) == 1e-6
    assert seen == [0.012]
