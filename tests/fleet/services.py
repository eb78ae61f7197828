"""The fleet tests' servers and processes: Redis and PostgreSQL started by the project's own
scripts (one of each, shared by every test), a fresh database and queue per fleet, and
``grader worker`` processes beside the ``grader serve`` ones of ``tests/api/conftest.py``.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
GRADER = [sys.executable, "-c", "from grader.cli import main; main()"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child: no GRADER_* settings leaking in from the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(extra)
    return env


def required() -> bool:
    """Whether missing servers must fail the run (CI), not skip the fleet tests."""
    return os.environ.get("CI") == "true" or os.environ.get("GRADER_REQUIRE_FLEET") == "1"


def _script(name: str, *args: str) -> str:
    """Run ``scripts/<name>``; its last line of output."""
    done = subprocess.run(["bash", str(SCRIPTS / name), *args], capture_output=True, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


@dataclass(frozen=True)
class Backends:
    """The shared Redis and PostgreSQL servers."""

    redis_url: str
    postgres_url: str

    def new_database(self) -> str:
        """A fresh, empty PostgreSQL database; its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = self.postgres_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.postgres_url.rsplit("/", 1)[0] + f"/{name}"

    def stop_redis(self) -> None:
        """Stop Redis (it saves its append-only file); connections to it are cut."""
        _script("start-redis.sh", "stop")

    def start_redis(self) -> None:
        """Start Redis again (with the queue it saved)."""
        _script("start-redis.sh", "start")

    def stop_postgres(self) -> None:
        """Stop PostgreSQL (fast: open connections are cut)."""
        _script("start-postgres.sh", "stop")

    def start_postgres(self) -> None:
        """Start PostgreSQL again."""
        _script("start-postgres.sh", "start")


def start_backends() -> Backends | None:
    """Start (or find) the servers; ``None`` if that is impossible here and not required."""
    try:
        return Backends(_script("start-redis.sh", "start"), _script("start-postgres.sh", "start"))
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        if required():
            pytest.fail(f"fleet tests need Redis and PostgreSQL (CI=true): {exc}")
        return None


def fleet_settings(backends: Backends, database_url: str, queue: str,
                   **extra: object) -> dict[str, str]:
    """``GRADER_*`` variables of one fleet: its database and queue, short leases for tests."""
    values: dict[str, object] = {
        "database_url": database_url, "broker_url": backends.redis_url, "queue_name": queue,
        "lease_seconds": 10, "sweep_interval": 1, "visibility_timeout": 20,
        "redispatch_after": 10,
    }
    values.update(extra)
    return {f"GRADER_{k.upper()}": str(v) for k, v in values.items()}


class Worker:
    """One ``grader worker`` process (a grading node), in its own process group."""

    def __init__(self, workdir: Path, env: dict[str, str], concurrency: int = 2,
                 exercises: Path | None = None, sandbox: str = "none",
                 metrics_port: int | None = None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.concurrency = concurrency
        self.exercises = exercises
        self.sandbox = sandbox
        self.metrics_port = metrics_port
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.logs: list[Path] = []

    def start(self) -> Worker:
        """Start it (a new log file each time); it is ready once it says so in its log."""
        self.log_path = self.workdir / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.logs.append(self.log_path)
        args = ["worker", "--concurrency", str(self.concurrency), "--sandbox", self.sandbox]
        if self.exercises is not None:
            args += ["--exercises", str(self.exercises)]
        if self.metrics_port:
            args += ["--metrics-port", str(self.metrics_port)]
        env = clean_env(**{"GRADER_LOG_LEVEL": "info", **self.env})
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([*GRADER, *args], stdout=log, stderr=subprocess.STDOUT,
                                         env=env, cwd=self.workdir, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 90) -> Worker:
        """Block until Celery reports the node ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.log()}")
            if " ready." in self.log_path.read_text(errors="replace"):
                return self
            time.sleep(0.1)
        raise AssertionError(f"worker not ready in {timeout} s:\n{self.log()}")

    def alive(self) -> bool:
        """Whether the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole node (its gradings' child processes too), as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM and wait (Celery's warm shutdown)."""
        return terminate(self.proc, timeout, self.kill, "worker", self.log)

    def log(self) -> str:
        """The end of the current log."""
        return self.log_path.read_text(errors="replace")[-8000:]

    def text(self) -> str:
        """Everything every run of this worker logged."""
        return "".join(path.read_text(errors="replace") for path in self.logs)


def terminate(proc: subprocess.Popen[bytes] | None, timeout: float, kill: Callable[[], None],
              what: str, log: Callable[[], str]) -> int | None:
    """SIGTERM ``proc`` and wait for a clean exit; past ``timeout``, ``kill()`` and fail with
    the end of its log. Its exit status (``None`` if it never started)."""
    if proc is None or proc.poll() is not None:
        return proc.returncode if proc else None
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        kill()
        raise AssertionError(f"{what} ignored SIGTERM for {timeout} s:\n{log()}") from None


_GRADING = re.compile(r"grading (\S+) attempt (\d+)$", re.MULTILINE)
_STORED = re.compile(r"graded (\S+) attempt (\d+): (\w+)$", re.MULTILINE)


@dataclass
class Tally:
    """Gradings started and results stored, per submission, read from the workers' logs
    (a side channel that does not go through the database)."""

    started: Counter[str]
    stored: Counter[str]
    attempts: dict[str, list[int]]

    @classmethod
    def read(cls, texts: list[str]) -> Tally:
        """Count the ``grading``/``graded`` lines of the given logs."""
        started: Counter[str] = Counter()
        stored: Counter[str] = Counter()
        attempts: dict[str, list[int]] = {}
        for text in texts:
            for submission_id, attempt in _GRADING.findall(text):
                started[submission_id] += 1
                attempts.setdefault(submission_id, []).append(int(attempt))
            for submission_id, _attempt, _status in _STORED.findall(text):
                stored[submission_id] += 1
        return cls(started, stored, attempts)

    def no_attempt_twice(self) -> bool:
        """No attempt number of a submission was graded by two workers."""
        return all(len(a) == len(set(a)) for a in self.attempts.values())
