"""Print a `grader validate --mutate` JSON report (standard input) as a few lines for a CI log:
per exercise the counts and score, then every survivor's id, change and diff, every stale
equivalent and every mutant that could not be graded. Exit 1 if the report says it failed."""

from __future__ import annotations

import json
import sys


def main() -> int:
    """Summarise the report on standard input."""
    report = json.load(sys.stdin)
    failed = False
    for run in report["exercises"]:
        score = run["score"]
        shown = "n/a" if score is None else f"{100 * score:.1f}%"
        print(
            f"{run['exercise']}: graded {run['graded']} of {run['generated']}, killed"
            f" {run['killed']} ({run['killed_by_timeout']} by timeout), equivalent"
            f" {run['equivalent']}, survived {run['survived']}, score {shown}"
            f" ({run['seconds']:.0f} s)"
        )
        if run["problem"]:
            print(f"  problem: {run['problem']}")
        for survivor in run["survivors"]:
            print(f"  SURVIVED {survivor['id']}: {survivor['description']}")
            print("    " + survivor["diff"].replace("\n", "\n    "))
        for stale in run["stale"]:
            print(f"  STALE {stale}")
        for fault in run["faults"]:
            print(f"  NOT GRADED {fault}")
        failed = failed or not run["ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
