"""Fixtures for the HTTP service tests: real ``grader serve`` processes on 127.0.0.1.

Every server is a subprocess with a free port, its own database and, unless a test says
otherwise, the tiny fixture exercises in ``tests/fixtures/api/exercises`` graded in direct mode
(``--sandbox none``) so that a grading takes well under a second. Tests talk to the servers
with httpx, and only ever to 127.0.0.1.

Every test that uses a server runs twice (``service_mode``): ``embedded`` is ``grader serve``
alone on a temporary SQLite file; ``fleet`` is an API node (``grader serve --broker``) and a
``grader worker`` node on a fresh PostgreSQL database, through Redis (both servers started once
by ``scripts/start-redis.sh`` and ``scripts/start-postgres.sh``; marked ``fleet``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fleet.services import Backends, Worker, fleet_settings, start_backends, terminate

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FIXTURE_EXERCISES = REPO / "tests" / "fixtures" / "api" / "exercises"
FINAL = ("completed", "error")
GRADER = [sys.executable, "-c", "from grader.cli import main; main()"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers of the long-running and the fleet service tests."""
    config.addinivalue_line("markers", "slow: long-running service test (deselect: -m 'not slow')")
    config.addinivalue_line("markers", "fleet: needs Redis and PostgreSQL (scripts/start-*.sh)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow service tests (schema fuzzing, load, crash) run in embedded mode only, unless
    GRADER_FLEET_FULL=1 (as CI sets it): in fleet mode they add about three minutes, and what
    they probe is mostly the HTTP layer both modes share. Every other API test runs in both
    modes, and tests/fleet covers what only the fleet does."""
    if os.environ.get("GRADER_FLEET_FULL") == "1":
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        mode = callspec.params.get("service_mode") if callspec is not None else None
        slow = item.get_closest_marker("slow") is not None
        (drop if mode == "fleet" and slow else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def fleet_backends() -> Backends:
    """Redis and PostgreSQL for the whole session (skipped where they cannot run, unless CI)."""
    found = start_backends()
    if found is None:
        pytest.skip("Redis/PostgreSQL unavailable (run scripts/start-redis.sh, start-postgres.sh)")
    return found


@pytest.fixture(scope="session", params=["embedded", pytest.param("fleet", marks=pytest.mark.fleet)])
def service_mode(request: pytest.FixtureRequest) -> str:
    """How the servers of a test run: embedded (SQLite, in-process) or fleet."""
    return str(request.param)


@pytest.fixture(scope="session")
def mode_backends(service_mode: str, request: pytest.FixtureRequest) -> Backends | None:
    """The fleet's servers in fleet mode; nothing in embedded mode."""
    if service_mode != "fleet":
        return None
    backends: Backends = request.getfixturevalue("fleet_backends")
    return backends


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child: no GRADER_* settings leaking in from the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(extra)
    return env


def run_grader(*args: str, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the ``grader`` CLI and capture its output."""
    return subprocess.run([*GRADER, *args], capture_output=True, text=True, timeout=timeout,
                          env=env or clean_env(), cwd=REPO, check=False)


def create_key(database_url: str, name: str) -> str:
    """A new API key's token, made with ``grader keys create``."""
    done = run_grader("keys", "create", name, "--database-url", database_url)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class Server:
    """One ``grader serve`` subprocess."""

    def __init__(self, workdir: Path, *, database_url: str | None = None,
                 exercises: Path | None = FIXTURE_EXERCISES, sandbox: str = "none",
                 workers: int = 2, open_mode: bool = False, backends: Backends | None = None,
                 **settings: Any) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.backends = backends
        if database_url is None:
            database_url = (backends.new_database() if backends is not None
                            else f"sqlite:///{workdir / 'grader.sqlite3'}")
        self.database_url = database_url
        self.exercises = exercises
        self.sandbox = sandbox
        self.workers = workers
        self.open_mode = open_mode
        self.settings = {f"GRADER_{k.upper()}": str(v) for k, v in settings.items()}
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "server.log"
        self.worker: Worker | None = None
        self.metrics_port = 0

    @property
    def fleet(self) -> bool:
        """Whether this is an API node and a worker node (else one embedded process)."""
        return self.backends is not None

    def _fleet_env(self) -> dict[str, str]:
        """The fleet's settings: this server's database; its name is the queue's too."""
        assert self.backends is not None
        queue = self.database_url.rsplit("/", 1)[1]
        env = fleet_settings(self.backends, self.database_url, queue)
        env.update(self.settings)
        return env

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Server:
        """Start on a fresh port and wait until ``/healthz`` answers."""
        self.port = free_port()
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(0 if self.fleet else self.workers), "--sandbox", self.sandbox,
                "--database-url", self.database_url]
        if self.exercises is not None:
            args += ["--exercises", str(self.exercises)]
        if self.open_mode:
            args.append("--open")
        env = clean_env(GRADER_LOG_LEVEL="warning", **self.settings)
        if self.fleet:
            env.update(self._fleet_env())
        if self.fleet and self.workers > 0:  # workers=0: an API node alone
            self.metrics_port = free_port()
            self.worker = Worker(self.workdir, {**self._fleet_env(), "GRADER_LOG_LEVEL": "info"},
                                 concurrency=self.workers, exercises=self.exercises,
                                 sandbox=self.sandbox, metrics_port=self.metrics_port).start()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([*GRADER, *args], stdout=log, stderr=subprocess.STDOUT,
                                         env=env, cwd=self.workdir, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    if self.worker is not None:
                        self.worker.wait_ready(timeout)
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"server did not start in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        """What the server (and its worker node) printed so far."""
        text = self.log_path.read_text(errors="replace")[-8000:]
        if self.worker is not None:
            text += "\n--- worker ---\n" + self.worker.text()[-8000:]
        return text

    def grading_metrics(self) -> str:
        """The Prometheus text of the process that grades (the worker node in a fleet)."""
        port = self.metrics_port if self.fleet else self.port
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM, then wait for a clean exit (SIGKILL if it takes too long)."""
        if self.worker is not None:
            self.worker.stop(timeout)
        return terminate(self.proc, timeout, self.kill, "server", self.log)

    def kill(self) -> None:
        """SIGKILL, as a crash would (the worker node too)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.worker is not None:
            self.worker.kill()

    def client(self, token: str | None = None, timeout: float = 60) -> httpx.Client:
        """An httpx client for this server, with ``token`` as the bearer token."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def key(self, name: str) -> str:
        """A new API key's token."""
        return create_key(self.database_url, name)


ServerFactory = Callable[..., Server]


@pytest.fixture
def server_factory(tmp_path: Path, mode_backends: Backends | None) -> Iterator[ServerFactory]:
    """Make servers (not started) in this test's temporary folder; all stopped afterwards."""
    made: list[Server] = []

    def make(name: str = "server", **kwargs: Any) -> Server:
        kwargs.setdefault("backends", mode_backends)
        server = Server(tmp_path / name, **kwargs)
        made.append(server)
        return server

    yield make
    for server in made:
        server.kill()


@pytest.fixture(scope="module")
def fixture_server(tmp_path_factory: pytest.TempPathFactory,
                   mode_backends: Backends | None) -> Iterator[Server]:
    """A keyed server on the fixture exercises, direct mode, generous limits."""
    server = Server(tmp_path_factory.mktemp("fixture-server"), max_body_bytes=65536,
                    rate_per_minute=6000, rate_burst=1000, max_queued_per_key=1000,
                    backends=mode_backends)
    server.start()
    yield server
    server.stop()


def reference(slug: str, root: Path = FIXTURE_EXERCISES) -> tuple[str, str]:
    """(module file name, reference source) of an exercise."""
    [path] = (root / slug / "reference").glob("*.py")
    return path.name, path.read_text(encoding="utf-8")


def submit(client: httpx.Client, slug: str, files: dict[str, str] | None = None,
           **kwargs: Any) -> httpx.Response:
    """POST a JSON submission (the reference solution unless ``files`` is given)."""
    if files is None:
        name, text = reference(slug)
        files = {name: text}
    return client.post("/v1/submissions", json={"exercise": slug, "files": files}, **kwargs)


def wait_final(client: httpx.Client, submission_id: str, timeout: float = 120) -> dict[str, Any]:
    """Long-poll until the submission is completed or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/submissions/{submission_id}", params={"wait": 10})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in FINAL:
            return body
    raise AssertionError(f"submission {submission_id} not final after {timeout} s")


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an error in the service's one shape; its ``error`` object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error
