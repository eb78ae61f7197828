"""Benchmark: what isolation costs. Each exercise's full hidden suite on its reference, graded
directly, in Docker cold (a container created per sandbox), in Docker warm (the pool), with
the process backend, and the peer-style baseline (pytest and the tests in one fresh container,
as Exercism's, otter's and Gradescope's runners do it, see ``bench/peer.py``).

    python bench/bench_isolation.py [--runs 5] [--modes direct,cold,warm,process,peer] [SLUG...]
    python bench/bench_isolation.py --throughput 12 [--rounds 3] [--modes cold,warm,peer] [SLUG]

Every mode but the peer-style one forks its harness children from the fork server, as the
callers that grade many submissions do. The first form prints per-exercise medians of runs
interleaved in one invocation (so machine load affects every mode alike), the ratio to
direct, and the target for warm Docker
(<= 1.2 x direct + 0.15 s). The second prints gradings per minute at 1 and 2 concurrent
gradings: with ``--rounds`` the median of that many cells per mode, the modes' cells taken in
turn, so that a machine whose speed drifts (a shared virtual machine) slows all alike. A script
that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grader.catalogue import Catalogue  # noqa: E402
from grader.exercise import Exercise  # noqa: E402
from grader.grading import grade, suite_tests  # noqa: E402
from grader.harness.runner import SuiteRunner  # noqa: E402
from grader.runners import make_runner  # noqa: E402
from grader.settings import SandboxChoice  # noqa: E402
from grader.submission import from_path  # noqa: E402
from grader.warm import WarmPoolSettings, close_pools, pools_refilled  # noqa: E402

MODES = ("direct", "cold", "warm", "process", "peer")
Grading = Callable[[], None]


def graders(exercise: Exercise, modes: list[str]) -> dict[str, Grading]:
    """One callable per mode that grades the reference once (and fails loudly if it fails)."""
    # Every mode forks its harness children from the fork server, as the callers that grade
    # many submissions do: the modes then differ only in where the submission runs.
    runners: dict[str, SuiteRunner] = {}
    if "direct" in modes:
        runners["direct"] = make_runner(SandboxChoice.NONE, forks=True)[0]
    if "cold" in modes:
        runners["cold"] = make_runner(SandboxChoice.DOCKER, forks=True)[0]
    if "warm" in modes:
        runners["warm"] = make_runner(SandboxChoice.DOCKER, warm=WarmPoolSettings())[0]
    if "process" in modes:
        runners["process"] = make_runner(SandboxChoice.PROCESS, forks=True)[0]
    reference = from_path(exercise.reference_path, exercise.meta.module)
    result: dict[str, Grading] = {}
    for mode, runner in runners.items():

        def run(runner: SuiteRunner = runner, mode: str = mode) -> None:
            report = grade(exercise, reference, runner)
            if not report.passed:
                failed = [
                    f"{t.name}: {t.status} {t.message}" for t in report.tests if t.status != "passed"
                ]
                raise SystemExit(
                    f"{exercise.slug} reference failed in {mode}: {report.message} {failed}"
                )

        result[mode] = run
    if "peer" in modes:
        import docker
        from peer import build_image, run_peer, stage

        build_image()
        client = docker.from_env()
        module = exercise.meta.module.removesuffix(".py")
        job = stage(exercise.hidden_dir, exercise.reference_path, exercise.reference_path, module)

        def peer() -> None:
            passed, total = run_peer(client, job)
            if passed != total or not total:
                raise SystemExit(f"{exercise.slug} reference failed peer-style: {passed}/{total}")

        result["peer"] = peer
    return {mode: result[mode] for mode in modes if mode in result}


def at_rest(seconds: float = 15.0) -> None:
    """Start each timed grading, of every mode, with the warm pool refilled and the machine
    quiet: the pool refills after a grading, between submissions."""
    give_up = time.monotonic() + seconds
    while not pools_refilled() and time.monotonic() < give_up:
        time.sleep(0.05)
    time.sleep(0.3)


def timed(run: Grading) -> float:
    """Seconds one grading takes."""
    start = time.monotonic()
    run()
    return time.monotonic() - start


def latency(slugs: list[str], modes: list[str], runs: int) -> None:
    """Print the per-exercise medians table."""
    print(f"# medians of {runs} interleaved runs, seconds; target for warm: 1.2 x direct + 0.15")
    header = f"{'exercise':<16}" + "".join(f" {m:>8}" for m in modes)
    header += "".join(f" {m + '/dir':>9}" for m in modes if m != "direct")
    print(header + "  warm target")
    for slug in slugs:
        exercise = Catalogue().get(slug)
        suite_tests(exercise)  # collected once, outside every timing
        runs_by_mode = graders(exercise, modes)
        for run in runs_by_mode.values():
            run()  # warm-up: imports, page cache, the pool's first containers
        times: dict[str, list[float]] = {m: [] for m in runs_by_mode}
        for _ in range(runs):
            for mode, run in runs_by_mode.items():
                at_rest()
                times[mode].append(timed(run))
        med = {m: statistics.median(v) for m, v in times.items()}
        row = f"{slug:<16}" + "".join(f" {med[m]:>8.2f}" for m in med)
        if "direct" in med:
            row += "".join(f" {med[m] / med['direct']:>8.2f}x" for m in med if m != "direct")
            if "warm" in med:
                target = 1.2 * med["direct"] + 0.15
                row += f"  {target:.2f} {'ok' if med['warm'] <= target else 'OVER'}"
        print(row, flush=True)
    close_pools()


def throughput(slug: str, modes: list[str], count: int, rounds: int = 1) -> None:
    """Print gradings per minute at 1 and 2 concurrent gradings: the median of ``rounds``
    cells per mode and concurrency, the modes' cells interleaved (so that the machine's drift
    affects them alike)."""
    exercise = Catalogue().get(slug)
    suite_tests(exercise)
    runs_by_mode = graders(exercise, modes)
    print(
        f"# {slug}: {count} gradings of the reference per cell, median of {rounds} interleaved"
        " cells; gradings per minute"
    )
    print(f"{'mode':<10} {'1 at a time':>12} {'2 at a time':>12}")
    for run in runs_by_mode.values():
        run()
    cells: dict[str, dict[int, list[float]]] = {m: {1: [], 2: []} for m in runs_by_mode}
    for _ in range(rounds):
        for workers in (1, 2):
            for mode, run in runs_by_mode.items():
                start = time.monotonic()
                with ThreadPoolExecutor(workers) as pool:
                    for future in [pool.submit(run) for _ in range(count)]:
                        future.result()
                cells[mode][workers].append(count / (time.monotonic() - start) * 60)
    for mode, by_workers in cells.items():
        one, two = (statistics.median(by_workers[w]) for w in (1, 2))
        print(f"{mode:<10} {one:>12.1f} {two:>12.1f}", flush=True)
    close_pools()


def main() -> None:
    """Parse the arguments and print the table asked for."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("slugs", nargs="*")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--throughput", type=int, metavar="N", help="gradings per cell")
    parser.add_argument("--rounds", type=int, default=1, help="cells per mode (throughput)")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; choose from {', '.join(MODES)}")
    slugs = args.slugs or Catalogue().slugs()
    if args.throughput:
        modes = [m for m in modes if m != "direct"] or ["warm"]
        throughput(slugs[0], modes, args.throughput, args.rounds)
    else:
        latency(slugs, modes, args.runs)


if __name__ == "__main__":
    main()
