"""Show the outcome of ``grader validate --mutate``: a table and every survivor's diff for a
person, one JSON document when piped."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape
from rich.syntax import Syntax

from grader.cli.output import console, table
from grader.mutation.run import ExerciseRun, MutantResult

COLUMNS = ["exercise", "generated", "graded", "killed", "equivalent", "survived", "score", "time"]


def summary_row(run: ExerciseRun) -> list[str]:
    """One exercise's row of the table."""
    if run.problem:
        return [
            run.exercise,
            str(run.generated),
            "0",
            "-",
            "-",
            "-",
            "FAIL",
            f"{run.seconds:.0f} s",
        ]
    timeouts = sum(1 for r in run.killed if r.timed_out)
    killed = f"{len(run.killed)}" + (f" ({timeouts} timed out)" if timeouts else "")
    score = "-" if run.score is None else f"{run.score:.1%}"
    return [
        run.exercise,
        str(run.generated),
        str(len(run.results)),
        killed,
        str(len(run.equivalent)),
        str(len(run.survived)),
        score,
        f"{run.seconds:.0f} s",
    ]


def show(runs: list[ExerciseRun], seconds: float) -> None:
    """The table, then each problem, survivor (with its diff) and stale equivalent."""
    table("Machine mutants", COLUMNS, [summary_row(run) for run in runs])
    out = console()
    for run in runs:
        if run.problem:
            out.print(f"[bold red]{run.exercise}:[/] {escape(run.problem)}")
        for result in run.survived:
            m = result.mutant
            out.print(
                f"\n[bold red]survived[/] [bold]{run.exercise} {escape(m.id)}[/] "
                f"({m.operator}, line {m.line}: {escape(m.description)})"
            )
            out.print(Syntax(m.diff, "diff", theme="ansi_dark", background_color="default"))
        for mutant_id, why in run.stale:
            out.print(f"\n[bold red]stale[/] {run.exercise} {escape(mutant_id)}: {escape(why)}")
        for result in run.faults:
            out.print(
                f"\n[bold red]not graded[/] {run.exercise} {escape(result.mutant.id)}: "
                f"{escape(result.fault)}"
            )
    survivors = sum(len(run.survived) for run in runs)
    stale = sum(len(run.stale) for run in runs)
    faults = sum(len(run.faults) for run in runs)
    failed = [run.exercise for run in runs if not run.ok]
    line = (
        f"{survivors} unlisted survivor(s), {stale} stale equivalent(s), {faults} not graded, "
        f"in {seconds:.0f} s" + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    out.print("\n" + (f"[bold red]{line}[/]" if failed else f"[green]{line}[/]"))


def as_json(runs: list[ExerciseRun], seconds: float) -> str:
    """The whole outcome as one JSON document."""
    document = {
        "ok": all(run.ok for run in runs),
        "seconds": round(seconds, 1),
        "exercises": [_run_json(run) for run in runs],
    }
    return json.dumps(document, indent=2)


def _run_json(run: ExerciseRun) -> dict[str, Any]:
    """One exercise's outcome, its survivors in full and every mutant's result in brief."""
    return {
        "exercise": run.exercise,
        "ok": run.ok,
        "problem": run.problem,
        "generated": run.generated,
        "graded": len(run.results),
        "killed": len(run.killed),
        "killed_by_timeout": sum(1 for r in run.killed if r.timed_out),
        "equivalent": len(run.equivalent),
        "survived": len(run.survived),
        "score": run.score,
        "seconds": round(run.seconds, 1),
        "survivors": [
            {
                "id": r.mutant.id,
                "operator": r.mutant.operator,
                "function": r.mutant.function,
                "line": r.mutant.line,
                "column": r.mutant.column,
                "description": r.mutant.description,
                "diff": r.mutant.diff,
            }
            for r in run.survived
        ],
        "stale": [{"id": mutant_id, "why": why} for mutant_id, why in run.stale],
        "faults": [{"id": r.mutant.id, "fault": r.fault} for r in run.faults],
        "mutants": [_result_json(r, run) for r in run.results],
    }


def _result_json(result: MutantResult, run: ExerciseRun) -> dict[str, Any]:
    """One mutant's result in brief."""
    return {
        "id": result.mutant.id,
        "line": result.mutant.line,
        "description": result.mutant.description,
        "killed": result.killed,
        "equivalent": result.mutant.id in run.equivalents,
        "status": result.status.value,
        "score": result.score,
        "killer": result.killer,
        "fault": result.fault,
        "seconds": round(result.seconds, 2),
    }
