"""Process backend basics (fast; the hostile cases are in tests/integration)."""

from __future__ import annotations

import os

import pytest

from sandbox import BackendUnavailable, ProcessSandbox, SandboxJob, SandboxLimits, process_backend
from sandbox.bootstrap import bootstrap_command
from sandbox.process_backend import UNSAFE_WARNING, bwrap_argv

JOB = SandboxJob(
    argv=["python3", "-S", "main.py"],
    files={"main.py": b"import sys; sys.stdout.write(sys.stdin.read()); sys.exit(5)"},
    limits=SandboxLimits(wall_timeout=10),
)


def test_plain_backend_runs_and_warns() -> None:
    backend = ProcessSandbox(use_bwrap=False)
    assert not backend.security_boundary and backend.warning == UNSAFE_WARNING
    result = backend.run(JOB, stdin=b"echo")
    assert (result.exit_code, result.stdout) == (5, b"echo")
    assert result.cpu_time is not None and result.cpu_time > 0


def test_plain_backend_timeout() -> None:
    job = SandboxJob(
        argv=["python3", "-c", "while True: pass"], limits=SandboxLimits(wall_timeout=0.5)
    )
    result = ProcessSandbox(use_bwrap=False).run(job)
    assert result.timed_out and result.signal == 9


def test_required_bwrap_missing_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_backend, "find_bwrap", lambda: None)
    with pytest.raises(BackendUnavailable, match="bubblewrap"):
        ProcessSandbox(use_bwrap=True)
    assert ProcessSandbox().security_boundary is False


def test_bwrap_argv_isolates() -> None:
    argv = bwrap_argv("/usr/bin/bwrap", JOB)
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert argv[argv.index("--uid") + 1] == "65534"
    assert argv[argv.index("--remount-ro") : argv.index("--remount-ro") + 2] == [
        "--remount-ro",
        "/",
    ]
    assert "--bind" not in argv  # nothing of the host is writable
    size = str(JOB.limits.tmpfs_bytes)
    assert argv.count("--size") == 2 and size in argv
    assert argv[-5:] == bootstrap_command()  # the program's argv travels in the bundle


@pytest.mark.skipif(process_backend.find_bwrap() is None, reason="bubblewrap not usable here")
def test_bwrap_backend_runs() -> None:
    backend = ProcessSandbox(use_bwrap=True)
    assert backend.security_boundary and backend.warning is None
    result = backend.run(JOB, stdin=b"in a namespace")
    assert (result.exit_code, result.stdout) == (5, b"in a namespace")


def test_workdir_removed_after_plain_run(tmp_path: object) -> None:
    job = SandboxJob(
        argv=["python3", "-c", "import os; print(os.getcwd())"],
        limits=SandboxLimits(wall_timeout=10),
    )
    result = ProcessSandbox(use_bwrap=False).run(job)
    workdir = result.stdout.decode().strip()
    assert workdir and not os.path.exists(workdir)


def test_uid_pools_of_different_processes_never_share_a_uid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sandbox.process_backend import UidPool

    # flock conflicts between open files, so two pools behave like two processes.
    first = UidPool(base=5000, slots=3, lock_dir=str(tmp_path))
    second = UidPool(base=5000, slots=3, lock_dir=str(tmp_path))
    taken = {first.acquire(), second.acquire(), first.acquire()}
    assert taken == {5000, 5001, 5002}
    import pytest

    from sandbox.errors import SandboxStartError

    with pytest.raises(SandboxStartError):
        second.acquire()
    uid = next(iter(taken))
    owner = first if uid in first._held else second
    owner.release(uid)
    other = second if owner is first else first
    assert other.acquire() == uid
