"""SandboxLimits, SandboxJob and SandboxResult: the value objects."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox import SandboxJob, SandboxLimits, SandboxResult
from sandbox.models import check_relative_path, split_status


def test_defaults_are_safe_and_frozen() -> None:
    lim = SandboxLimits()
    assert lim.wall_timeout == 30.0 and lim.cpu_seconds == 30
    assert lim.memory_bytes == 256 * 2**20 and lim.pids == 64
    assert lim.tmpfs_bytes == 32 * 2**20 and lim.output_bytes == 2**20
    assert lim.open_files == 64 and lim.file_size_bytes == 16 * 2**20
    with pytest.raises(dataclasses.FrozenInstanceError):
        lim.pids = 1000  # type: ignore[misc]


def test_replace_validates_again() -> None:
    assert SandboxLimits().replace(pids=10).pids == 10
    with pytest.raises(ValueError, match="pids"):
        SandboxLimits().replace(pids=0)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("wall_timeout", 0, ValueError),
        ("wall_timeout", float("inf"), ValueError),
        ("cpus", -1.0, ValueError),
        ("memory_bytes", 1024, ValueError),
        ("open_files", 3, ValueError),
        ("output_bytes", 0, ValueError),
        ("pids", 8.5, TypeError),
        ("pids", True, TypeError),
    ],
)
def test_invalid_limits_rejected(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        SandboxLimits(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../x", "a/../../b", "a//b", "./a", "", "a\x00b", "a\\b", "a/"]
)
def test_unsafe_paths_rejected(path: str) -> None:
    with pytest.raises(ValueError):
        check_relative_path(path)
    with pytest.raises(ValueError):
        SandboxJob(argv=["python3"], files={path: b""})


def test_job_freezes_argv_and_files() -> None:
    files: dict[str, bytes] = {"main.py": b"print(1)", "pkg/x.py": bytearray(b"x")}  # type: ignore[dict-item]
    job = SandboxJob(argv=["python3", "main.py"], files=files)
    files["evil.py"] = b""
    assert job.argv == ("python3", "main.py")
    assert dict(job.files) == {"main.py": b"print(1)", "pkg/x.py": b"x"}
    assert job.files_size() == 9
    with pytest.raises(TypeError):
        job.files["x"] = b""  # type: ignore[index]


def test_job_rejects_bad_argv_and_file_dir_clash() -> None:
    with pytest.raises(ValueError):
        SandboxJob(argv=[])
    with pytest.raises(ValueError):
        SandboxJob(argv=["a\x00"])
    with pytest.raises(ValueError, match="directory"):
        SandboxJob(argv=["x"], files={"a": b"", "a/b": b""})
    with pytest.raises(TypeError):
        SandboxJob(argv=["x"], files={"a": "text"})  # type: ignore[dict-item]


def test_split_status() -> None:
    assert split_status(0, shell_convention=True) == (0, None)
    assert split_status(137, shell_convention=True) == (None, 9)
    assert split_status(137, shell_convention=False) == (137, None)
    assert split_status(-9, shell_convention=False) == (None, 9)
    assert split_status(None, shell_convention=True) == (None, None)
    assert split_status(255, shell_convention=True) == (255, None)


def test_result_ok_and_describe() -> None:
    assert SandboxResult(exit_code=0).ok
    assert SandboxResult(exit_code=2).describe() == "exit code 2"
    timed = SandboxResult(exit_code=None, signal=9, timed_out=True)
    assert not timed.ok
    assert timed.describe() == "killed by SIGKILL (wall timeout)"
    both = SandboxResult(exit_code=None, signal=9, memory_killed=True, output_truncated=True)
    assert both.describe() == "killed by SIGKILL (memory limit, output limit)"
    assert SandboxResult(exit_code=None).describe() == "unknown status"
