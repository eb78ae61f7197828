"""Benchmark: each exercise's full hidden suite on its reference, direct vs isolated.

Prints medians over repeated runs of direct mode, isolated mode with the Docker and the process
backends, and the ratio to the target (isolated <= 1.5 x direct + 0.3 s). A script, not a test:

    python bench/bench_isolation.py [--runs 5] [--backends docker,process] [SLUG ...]
"""

from __future__ import annotations

import argparse
import statistics
import time

from grader.catalogue import Catalogue
from grader.grading import grade, suite_tests
from grader.harness.supervisor import ChildRunner
from grader.report import RunStatus
from grader.submission import from_path
from sandbox import SandboxError, select_backend


def timed_grade(slug: str, backend: str | None) -> float:
    """Seconds to grade the reference once; fails loudly if it does not pass."""
    exercise = Catalogue().get(slug)
    start = time.monotonic()
    report = grade(exercise, from_path(exercise.reference_path, exercise.meta.module),
                   ChildRunner(backend=backend))
    elapsed = time.monotonic() - start
    if report.status is not RunStatus.PASSED:
        raise SystemExit(f"{slug} reference did not pass in {backend or 'direct'} mode: {report.message}")
    return elapsed


def available(backend: str) -> bool:
    """Whether ``backend`` can run here."""
    try:
        chosen, _ = select_backend(backend)
    except SandboxError as exc:
        print(f"# {backend}: unavailable ({exc})")
        return False
    chosen.close()
    return True


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slugs", nargs="*")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="docker,process")
    args = parser.parse_args()
    slugs = args.slugs or Catalogue().slugs()
    backends = [b for b in args.backends.split(",") if b and available(b)]
    for slug in slugs:  # collect once, so collection is not in the first run's time
        suite_tests(Catalogue().get(slug))
    header = f"{'exercise':<16} {'direct':>8}" + "".join(
        f" {b:>8} {'ratio':>6} {'target':>7}" for b in backends)
    print(f"# medians over {args.runs} runs, seconds; target = 1.5 x direct + 0.3")
    print(header)
    for slug in slugs:
        direct = statistics.median(timed_grade(slug, None) for _ in range(args.runs))
        row = f"{slug:<16} {direct:>8.2f}"
        for backend in backends:
            isolated = statistics.median(timed_grade(slug, backend) for _ in range(args.runs))
            target = 1.5 * direct + 0.3
            mark = "ok" if isolated <= target else "OVER"
            row += f" {isolated:>8.2f} {isolated / direct:>5.2f}x {target:>6.2f} {mark}"
        print(row)


if __name__ == "__main__":
    main()
