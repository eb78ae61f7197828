"""Fleet benchmark: throughput and submit-to-result latency for 1, 2 and 3 grading nodes,
with embedded single-process mode (``grader serve --workers N``) beside it.

Usage: python bench/bench_fleet.py [--submissions 30] [--docker-submissions 6] [--no-docker]

Starts Redis and PostgreSQL with ``scripts/start-redis.sh`` and ``scripts/start-postgres.sh``
(idempotent; on 127.0.0.1), then for each configuration starts the processes on 127.0.0.1
(open mode, a fresh database and queue), submits the reference solutions from 10 concurrent
clients and measures, for each, the time from sending the POST to seeing the completed result
(long-poll). Fleet: one API node and N ``grader worker --concurrency 1`` nodes. Embedded: one
``grader serve --workers N`` on SQLite. Exercises: the tiny fixture ``echo`` in direct mode,
and ``lru-cache`` in the Docker sandbox (if Docker and the runner image are there).
Prints a table. A script, not a test: the figures depend on the machine (2 cores in CI).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "api" / "exercises"
GRADER = [sys.executable, "-c", "from grader.cli import main; main()"]
LIMITS = {"GRADER_RATE_PER_MINUTE": "100000", "GRADER_RATE_BURST": "100000",
          "GRADER_MAX_QUEUED_PER_KEY": "100000", "GRADER_OPEN_MODE": "1",
          "GRADER_LOG_LEVEL": "warning"}


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def script(name: str) -> str:
    """Run a start script; the URL it prints."""
    done = subprocess.run(["bash", str(REPO / "scripts" / name)], capture_output=True,
                          text=True, check=True, timeout=600)
    return done.stdout.strip().splitlines()[-1]


def new_database(postgres_url: str) -> str:
    """A fresh PostgreSQL database; its URL."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


@dataclass
class Case:
    """One configuration to measure."""

    mode: str  # "embedded" or "fleet"
    exercise: str
    sandbox: str
    workers: int
    submissions: int


def start(case: Case, workdir: Path, redis_url: str, postgres_url: str
          ) -> tuple[list[subprocess.Popen[bytes]], str]:
    """The processes of ``case`` and the API's URL, once it answers and workers are ready."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")} | LIMITS
    env["GRADER_SANDBOX"] = case.sandbox
    if case.exercise == "echo":
        env["GRADER_EXERCISES_DIR"] = str(FIXTURES)
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    if case.mode == "fleet":
        database = new_database(postgres_url)
        env |= {"GRADER_DATABASE_URL": database, "GRADER_BROKER_URL": redis_url,
                "GRADER_QUEUE_NAME": database.rsplit("/", 1)[1], "GRADER_LOG_LEVEL": "info"}
        for index in range(case.workers):
            log = workdir / f"worker{index}.log"
            logs.append(log)
            with log.open("wb") as out:
                procs.append(subprocess.Popen([*GRADER, "worker", "--concurrency", "1"],
                                              env=env, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        serve = ["serve", "--port", str(port), "--workers", "0"]
    else:
        env["GRADER_DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
        serve = ["serve", "--port", str(port), "--workers", str(case.workers)]
    with (workdir / "api.log").open("wb") as out:
        procs.append(subprocess.Popen([*GRADER, *serve], env=env, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        ready = all(" ready." in log.read_text(errors="replace") for log in logs)
        try:
            if ready and httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return procs, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop(procs)
    raise RuntimeError(f"{case} did not start; logs in {workdir}")


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop every process (their whole process groups)."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def measure(case: Case, url: str) -> tuple[float, float, float]:
    """(submissions per minute, p50 s, p95 s) for ``case.submissions`` from 10 clients."""
    if case.exercise == "echo":
        name, source = "echo.py", (FIXTURES / "echo" / "reference" / "echo.py").read_text()
    else:
        path = next((REPO / "exercises" / case.exercise / "reference").glob("*.py"))
        name, source = path.name, path.read_text()

    def one(_index: int) -> tuple[float, float]:
        with httpx.Client(base_url=url, timeout=120) as client:
            sent = time.monotonic()
            accepted = client.post("/v1/submissions",
                                   json={"exercise": case.exercise, "files": {name: source}})
            accepted.raise_for_status()
            sid = accepted.json()["id"]
            while True:
                body = client.get(f"/v1/submissions/{sid}", params={"wait": 30}).json()
                if body["status"] in ("completed", "error"):
                    if body["status"] != "completed":
                        raise RuntimeError(f"{sid}: {body['error']}")
                    return sent, time.monotonic()

    with ThreadPoolExecutor(10) as pool:
        timings = list(pool.map(one, range(case.submissions)))
    first = min(sent for sent, _done in timings)
    last = max(done for _sent, done in timings)
    latencies = sorted(done - sent for sent, done in timings)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    return case.submissions / (last - first) * 60, statistics.median(latencies), p95


def docker_ready() -> bool:
    """Whether the Docker sandbox can run here (daemon and runner image)."""
    done = subprocess.run([*GRADER, "doctor"], capture_output=True, text=True, check=False)
    return done.returncode == 0 and "runner image" in done.stdout and "FAIL" not in done.stdout


def main() -> None:
    """Measure every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=30)
    parser.add_argument("--docker-submissions", type=int, default=6)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    redis_url, postgres_url = script("start-redis.sh"), script("start-postgres.sh")
    cases = [Case(mode, "echo", "none", n, args.submissions)
             for n in (1, 2, 3) for mode in ("embedded", "fleet")]
    if not args.no_docker and docker_ready():
        cases += [Case(mode, "lru-cache", "docker", n, args.docker_submissions)
                  for n in (1, 2, 3) for mode in ("embedded", "fleet")]
    rows = []
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
            procs, url = start(case, Path(tmp), redis_url, postgres_url)
            try:
                per_minute, p50, p95 = measure(case, url)
            finally:
                stop(procs)
        rows.append((case, per_minute, p50, p95))
        print(f"  measured {case.mode} {case.exercise} x{case.workers}", file=sys.stderr)
    print(f"{'exercise (sandbox)':<22} {'workers':>7} {'mode':<9} {'subs/min':>9} "
          f"{'p50 s':>7} {'p95 s':>7}")
    for case, per_minute, p50, p95 in rows:
        label = f"{case.exercise} ({case.sandbox})"
        print(f"{label:<22} {case.workers:>7} {case.mode:<9} {per_minute:>9.1f} {p50:>7.2f} "
              f"{p95:>7.2f}")


if __name__ == "__main__":
    main()
