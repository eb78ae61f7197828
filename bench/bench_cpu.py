"""Benchmark: CPU seconds per grading, and where they go. Throughput two gradings at a time
on a small machine is bound by CPU time, so this is the figure that explains it.

    python bench/bench_cpu.py [--runs 5] [--modes direct,warm,process,peer] [SLUG]
    python bench/bench_cpu.py --two-at-a-time 16 [--runs 3] [--modes warm,peer] [SLUG]

Each grading of the exercise's reference (same modes as ``bench_isolation.py``) is measured
from just before it starts until 1.5 s after it ends (the warm pool's refill and the removal
of its containers are part of what a grading costs), one mode after another, interleaved. The
columns, medians in CPU seconds:

- machine: every CPU of the machine (``/proc/stat``, less idle and iowait);
- parent: this process (the grader's side: the pool's refill thread, the Docker SDK, reports);
- child: the harness children (pytest, the hidden tests, the bridge's harness end; in direct
  mode also the submission and the reference), whether this process waited for them or the
  fork server forked them (warm mode; the fork server's own CPU counts as the parent's);
- daemons: ``dockerd`` and ``containerd``;
- sandbox: every process inside a container (the subject servers and their bootstraps, the
  peer-style container's pytest), read from the Docker cgroup where the machine has one
  (cgroup v1 ``cpuacct/docker``; 0 elsewhere, and then part of rest);
- rest: machine less the above: container shims and runtimes, the kernel's work on
  namespaces and mounts.

With ``--two-at-a-time N`` each run of a mode grades N submissions two at a time, back to
back (as ``bench_isolation.py --throughput`` does), and the figures are that run's totals over
N: what a grading costs when two share the machine, which is what bounds throughput there
(the pool's refills and removals run beside the gradings then, and are counted too).

Run it on a quiet machine; anything else that runs meanwhile lands in "rest". A script that
prints figures, not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_isolation import MODES, at_rest, graders

from grader.catalogue import Catalogue
from grader.grading import suite_tests
from grader.harness.forks import shared_fork_server
from grader.warm import close_pools

_TICK = os.sysconf("SC_CLK_TCK")
_DAEMONS = ("dockerd", "containerd")
#: Seconds counted after a grading ends: the pool refills and removes containers then.
AFTERMATH = 1.5


def machine_busy() -> float:
    """CPU seconds every CPU spent not idle since boot."""
    with open("/proc/stat") as stat:
        fields = [int(f) for f in stat.readline().split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / _TICK


def _proc_stat(pid: int | str) -> tuple[str, list[str]] | None:
    """The command name and the fields after it of ``/proc/<pid>/stat`` (``None``: gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    return text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()


def daemons_cpu() -> float:
    """CPU seconds of the Docker daemons (and of the children they waited for)."""
    total = 0
    for entry in os.scandir("/proc"):
        found = _proc_stat(entry.name) if entry.name.isdigit() else None
        if found is not None and found[0] in _DAEMONS:
            total += sum(int(f) for f in found[1][11:15])  # utime stime cutime cstime
    return total / _TICK


def process_cpu(pid: int | None) -> float:
    """CPU seconds of process ``pid`` so far (0 if there is none)."""
    found = _proc_stat(pid) if pid is not None else None
    return sum(int(f) for f in found[1][11:13]) / _TICK if found is not None else 0.0  # utime stime


def own_and_children() -> tuple[float, float]:
    """CPU seconds of this process (and of its fork server), and of the harness children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    forks = shared_fork_server()
    parent = me.ru_utime + me.ru_stime + process_cpu(forks.pid)
    return parent, kids.ru_utime + kids.ru_stime + forks.children_cpu


def containers_cpu() -> float:
    """CPU seconds of every process in a Docker container (removed ones included), where the
    daemon's parent cgroup can be read (cgroup v1 with the cgroupfs driver), else 0."""
    try:
        with open("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage") as usage:
            return int(usage.read()) / 1e9
    except (OSError, ValueError):
        return 0.0


def sample() -> tuple[float, float, float, float, float]:
    """(machine, parent, child, daemons, containers) CPU seconds so far."""
    parent, child = own_and_children()
    return machine_busy(), parent, child, daemons_cpu(), containers_cpu()


def two_at_a_time(run: Callable[[], None], count: int) -> None:
    """Grade ``count`` times, two gradings at a time."""
    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(run) for _ in range(count)]:
            future.result()


def measure(slug: str, modes: list[str], runs: int, together: int = 0) -> None:
    """Print the table of CPU seconds per grading (``together``: gradings per run, two at a
    time; 0: one grading per run, alone)."""
    exercise = Catalogue().get(slug)
    suite_tests(exercise)
    runs_by_mode = graders(exercise, modes)
    for run in runs_by_mode.values():
        run()  # warm-up
        run()
    rows: dict[str, list[tuple[float, ...]]] = {m: [] for m in runs_by_mode}
    per = max(together, 1)
    for _ in range(runs):
        for mode, run in runs_by_mode.items():
            at_rest()
            before, start = sample(), time.monotonic()
            if together:
                two_at_a_time(run, together)
            else:
                run()
            wall = time.monotonic() - start
            if not together:
                time.sleep(AFTERMATH)
            after = sample()
            machine, parent, child, daemons, boxes = (
                (b - a) / per for a, b in zip(before, after, strict=True)
            )
            rest = machine - parent - child - daemons - boxes
            rows[mode].append((machine, parent, child, daemons, boxes, rest, wall / per))
    how = f"{together} gradings two at a time per run" if together else "one grading per run"
    print(f"# {slug}: CPU seconds per grading, medians of {runs} interleaved runs ({how})")
    columns = ("machine", "parent", "child", "daemons", "sandbox", "rest", "wall")
    print(f"{'mode':<10}" + "".join(f" {c:>8}" for c in columns))
    for mode, values in rows.items():
        medians = [statistics.median(column) for column in zip(*values, strict=True)]
        print(f"{mode:<10}" + "".join(f" {v:>8.2f}" for v in medians), flush=True)
    close_pools()


def main() -> None:
    """Parse the arguments and print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("slug", nargs="?", default="lru-cache")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modes", default="direct,warm,process,peer")
    parser.add_argument("--two-at-a-time", type=int, default=0, metavar="N")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; choose from {', '.join(MODES)}")
    measure(args.slug, modes, args.runs, args.two_at_a_time)


if __name__ == "__main__":
    main()
