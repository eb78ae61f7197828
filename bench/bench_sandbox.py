"""Sandbox micro-benchmark: start-to-ready time and channel round-trip latency.

Usage: python bench/bench_sandbox.py [--runs 10] [--round-trips 200]
                                     [--backends docker,bwrap,plain]

For each backend and each of ``--runs`` runs: time ``backend.start(job)``
until the program is about to run (files delivered, READY seen), then time
``--round-trips`` echo round trips of a 16-byte line, then the time from
closing stdin until the result is back and everything is removed. Prints
medians (and min/max) per backend. A script, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox import (  # after the path tweak, to run from a checkout
    DockerSandbox,
    ProcessSandbox,
    SandboxBackend,
    SandboxError,
    SandboxJob,
    SandboxLimits,
)

ECHO = b"""\
import sys
for line in sys.stdin.buffer:
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()
"""
JOB = SandboxJob(
    argv=["python3", "-S", "main.py"],
    files={"main.py": ECHO},
    limits=SandboxLimits(wall_timeout=60),
)
MESSAGE = b"0123456789abcde\n"


def backends() -> dict[str, Callable[[], SandboxBackend]]:
    """Factories by name."""
    return {
        "docker": DockerSandbox,
        "bwrap": lambda: ProcessSandbox(use_bwrap=True),
        "plain": lambda: ProcessSandbox(use_bwrap=False),
    }


def one_run(backend: SandboxBackend, round_trips: int) -> tuple[float, float, float]:
    """(start-to-ready s, mean round trip s, close-to-cleaned-up s) of one run."""
    t0 = time.perf_counter()
    with backend.start(JOB) as run:
        ready = time.perf_counter() - t0
        t1 = time.perf_counter()
        for _ in range(round_trips):
            run.send(MESSAGE)
            got = b""
            while len(got) < len(MESSAGE):
                got += run.recv(4096, timeout=10)
        rtt = (time.perf_counter() - t1) / round_trips
        t2 = time.perf_counter()
        run.close_stdin()
        result = run.wait(timeout=30)
        teardown = time.perf_counter() - t2
    if result.exit_code != 0:
        raise RuntimeError(f"echo program failed: {result}")
    return ready, rtt, teardown


def fmt(values: list[float], scale: float, unit: str) -> str:
    """median (min..max) in ``unit``."""
    med = statistics.median(values) * scale
    return f"{med:8.2f} {unit} (min {min(values) * scale:.2f}, max {max(values) * scale:.2f})"


def main() -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--backends", default="docker,bwrap,plain")
    args = parser.parse_args()
    factories = backends()
    for name in args.backends.split(","):
        try:
            backend = factories[name]()
        except (SandboxError, KeyError) as exc:
            print(f"{name:7s} skipped: {exc}")
            continue
        one_run(backend, 5)  # warm-up: page cache, image layers
        samples = [one_run(backend, args.round_trips) for _ in range(args.runs)]
        backend.close()
        ready, rtt, teardown = (list(col) for col in zip(*samples, strict=True))
        print(f"{name:7s} start-to-ready {fmt(ready, 1e3, 'ms')}")
        print(f"{'':7s} round trip     {fmt(rtt, 1e6, 'us')}  [{args.round_trips} x 16 B]")
        print(f"{'':7s} exit+cleanup   {fmt(teardown, 1e3, 'ms')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
