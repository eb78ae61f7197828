"""The early end of a warm run (``DockerRun.end``): a warm container is let go once the
program's stdout and stderr ended, without waiting for the daemon to report it stopped; its
pool removes it. A program that closes its output and keeps running must still not outlive
its grading."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.catalogue import Catalogue
from grader.grading import grade
from grader.report import RunStatus
from grader.runners import make_runner
from grader.settings import SandboxChoice
from grader.submission import from_path
from grader.warm import WarmPoolSettings, close_pools
from sandbox import DockerSandbox, SandboxJob, SandboxLimits
from sandbox.pool import WarmPool

from .warm_backend import claiming_backend

pytestmark = pytest.mark.docker

LIMITS = SandboxLimits(wall_timeout=60)


def processes_named(token: str) -> list[int]:
    """Pids on this host whose name (``comm``) is ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == token:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def gone_within(token: str, seconds: float) -> bool:
    """Whether no process is named ``token`` any more, waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while processes_named(token):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def program(token: str, after_eof: str) -> SandboxJob:
    """A program named ``token`` that reads stdin to its end, then says so on stderr and
    does ``after_eof``."""
    code = (
        "import os, sys\n"
        f"open('/proc/self/comm', 'w').write({token!r})\n"
        "sys.stdin.read()\n"
        "sys.stderr.write('got EOF\\n'); sys.stderr.flush()\n"
        f"{after_eof}\n"
    )
    return SandboxJob(argv=["python3", "-c", code], files={}, limits=LIMITS, caller_reads=True)


@pytest.fixture
def warm(docker_sandbox: DockerSandbox) -> Iterator[tuple[DockerSandbox, WarmPool, list[str]]]:
    """A backend that takes warm containers from a pool of 2, the pool, and what it handed."""
    assert docker_sandbox.socket_channel  # the early end needs the socket channel
    pool = WarmPool(
        docker_sandbox.api,
        docker_sandbox.image,
        None,
        docker_sandbox.user,
        size=2,
        socket_channel=True,
    )
    pool.warm_up(LIMITS)
    deadline = time.monotonic() + 60
    while pool.stats().ready < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    backend, handed = claiming_backend(pool, docker_sandbox.image)
    yield backend, pool, handed
    backend.close()
    pool.close()


def test_a_warm_run_ends_with_its_output_and_keeps_what_it_printed(
    warm: tuple[DockerSandbox, WarmPool, list[str]],
) -> None:
    backend, pool, handed = warm
    token = f"we{secrets.token_hex(4)}"
    run = backend.start(program(token, "sys.exit(0)"))
    result = run.end(grace=5.0)
    assert handed, "the run did not take a warm container"
    assert result.stderr == b"got EOF\n"
    assert result.exit_code is None  # not waited for: its pool removes the container
    pool.discard(handed, wait=True)
    assert gone_within(token, 5.0)


def test_a_program_that_closes_its_output_and_spins_is_removed_with_its_container(
    warm: tuple[DockerSandbox, WarmPool, list[str]],
) -> None:
    """Ending its output is all it takes to be let go early: the container is still killed
    when the pool removes it."""
    backend, pool, handed = warm
    token = f"ws{secrets.token_hex(4)}"
    run = backend.start(program(token, "os.closerange(0, 1024)\nwhile True: pass"))
    started = time.monotonic()
    result = run.end(grace=5.0)
    assert time.monotonic() - started < 4.0  # let go at the end of its output, not at grace
    assert result.stderr == b"got EOF\n"
    assert processes_named(token), "it should still be spinning until its pool removes it"
    pool.discard(handed, wait=True)
    assert gone_within(token, 5.0)


def test_a_cold_run_still_reports_how_it_ended(docker_sandbox: DockerSandbox) -> None:
    """A container the run made itself is waited for: the exit status is known."""
    run = docker_sandbox.start(program(f"wc{secrets.token_hex(4)}", "sys.exit(7)"))
    result = run.end(grace=10.0)
    assert (result.exit_code, result.stderr) == (7, b"got EOF\n")


HOSTILE_EXIT = """

import atexit as _atexit, os as _os

def _linger():
    open("/proc/self/comm", "w").write({token!r})
    _os.closerange(0, 1024)  # the channel, stderr: the harness sees the end of its output
    while True:
        pass

_atexit.register(_linger)
"""


def test_a_submission_that_lingers_after_its_grading_is_removed_with_its_container(
    docker_sandbox: DockerSandbox, tmp_path: Path
) -> None:
    """An exit handler that closes every file and spins forever: the grading is unharmed
    and nothing of it runs on once the grading returned."""
    exercise = Catalogue().get("circuit-breaker")
    token = f"wl{secrets.token_hex(4)}"
    path = tmp_path / "circuit_breaker.py"
    path.write_text(exercise.reference_path.read_text() + HOSTILE_EXIT.format(token=token))
    runner, _ = make_runner(SandboxChoice.DOCKER, warm=WarmPoolSettings(size=2))
    try:
        report = grade(exercise, from_path(path, exercise.meta.module), runner)
        assert report.status is RunStatus.PASSED, report.message
        assert gone_within(token, 5.0), "the lingering submission outlived its grading"
    finally:
        close_pools()
