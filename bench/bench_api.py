"""Service benchmark: submit-to-result latency and throughput of a real ``grader serve``.

Usage: python bench/bench_api.py [--submissions 40] [--workers N] [--sandbox none]
                                 [--exercise echo] [--exercises DIR]

Starts ``grader serve`` on 127.0.0.1 (a free port, a temporary SQLite database, open mode,
the tiny fixture exercise ``echo`` by default), then for 1 and for 20 concurrent clients
submits ``--submissions`` reference solutions in all and measures, for each, the time from
sending the POST to seeing the completed result (long-poll). Prints p50/p95 latency and
completed submissions per minute at each level. A script, not a test.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "api" / "exercises"


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(args: argparse.Namespace, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``grader serve`` on a free loopback port; (process, base URL) once it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(GRADER_RATE_BURST="100000", GRADER_RATE_PER_MINUTE="100000",
               GRADER_MAX_QUEUED_PER_KEY="100000", GRADER_LOG_LEVEL="warning")
    command = [sys.executable, "-c", "from grader.cli import main; main()", "serve",
               "--host", "127.0.0.1", "--port", str(port), "--open",
               "--sandbox", args.sandbox, "--workers", str(args.workers),
               "--database-url", f"sqlite:///{workdir / 'bench.sqlite3'}",
               "--exercises", str(args.exercises.resolve())]
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited:\n{(workdir / 'server.log').read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("server did not start in 60 s")


def one_submission(client: httpx.Client, body: dict[str, object]) -> float:
    """Seconds from sending the submission to seeing its completed result."""
    start = time.perf_counter()
    response = client.post("/v1/submissions", json=body)
    response.raise_for_status()
    submission_id = response.json()["id"]
    while True:
        state = client.get(f"/v1/submissions/{submission_id}", params={"wait": 30}).json()
        if state["status"] in ("completed", "error"):
            if state["status"] != "completed":
                raise RuntimeError(f"grading failed: {state['error']}")
            return time.perf_counter() - start


def run_level(url: str, body: dict[str, object], clients: int,
              total: int) -> tuple[list[float], float]:
    """``total`` submissions spread over ``clients`` threads; (latencies, wall seconds)."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def client_loop() -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                latency = one_submission(client, body)
                with lock:
                    latencies.append(latency)

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100), interpolated."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=40, help="per concurrency level")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sandbox", default="none", choices=["none", "process", "docker"])
    parser.add_argument("--exercise", default="echo")
    parser.add_argument("--exercises", type=Path, default=FIXTURES)
    args = parser.parse_args()
    [reference] = (args.exercises / args.exercise / "reference").glob("*.py")
    body = {"exercise": args.exercise, "files": {reference.name: reference.read_text()}}
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        proc, url = start_server(args, Path(tmp))
        try:
            with httpx.Client(base_url=url, timeout=120) as warm:
                one_submission(warm, body)  # collects the suite once, outside the numbers
            print(f"exercise {args.exercise}, sandbox {args.sandbox}, {args.workers} workers, "
                  f"{args.submissions} submissions per level, {os.cpu_count()} CPUs")
            print(f"{'clients':>7}  {'p50 s':>7}  {'p95 s':>7}  {'max s':>7}  {'subs/min':>8}")
            for clients in (1, 20):
                latencies, wall = run_level(url, body, clients, args.submissions)
                print(f"{clients:>7}  {percentile(latencies, 50):>7.3f}  "
                      f"{percentile(latencies, 95):>7.3f}  {max(latencies):>7.3f}  "
                      f"{60 * len(latencies) / wall:>8.1f}")
        finally:
            proc.terminate()
            proc.wait(60)


if __name__ == "__main__":
    main()
