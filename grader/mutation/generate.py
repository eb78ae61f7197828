"""Turn a module's mutation sites into mutants with stable ids, and pick subsets of them.

A mutant's id is ``<operator>:<qualified function>:<index>``, the index counting that
operator's mutations within that function in source order. It names no line, so inserting
or removing code elsewhere in the module (another function, a comment, an import) leaves
the id unchanged; editing the same function may renumber its mutants.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from grader.mutation.sites import find_sites
from grader.mutation.text import SourceText, apply_edits


@dataclass(frozen=True)
class MachineMutant:
    """A generated variant of the reference: one operator applied at one place."""

    id: str
    operator: str
    function: str
    line: int
    column: int
    description: str
    source: str
    diff: str


def generate_mutants(text: str, module: str = "module.py") -> list[MachineMutant]:
    """Every mutant of the module ``text``, in source order, with a unified diff each.

    A mutation that leaves the text unchanged or repeats an earlier mutant's text is dropped
    (its index is still counted, so the ids of the others do not depend on it); so is one
    that does not compile, which would be a fault of an operator.
    """
    src = SourceText(text)
    counts: dict[tuple[str, str], int] = {}
    seen = {text}
    mutants = []
    for site in find_sites(ast.parse(text, module), src):
        key = (site.operator, site.function)
        index = counts.get(key, 0)
        counts[key] = index + 1
        source = apply_edits(text, site.edits)
        if source in seen or not _compiles(source, module):
            continue
        seen.add(source)
        mutant_id = f"{site.operator}:{site.function}:{index}"
        start = site.edits[0].start
        mutants.append(
            MachineMutant(
                id=mutant_id,
                operator=site.operator,
                function=site.function,
                line=src.line_of(start),
                column=src.column_of(start),
                description=site.description,
                source=source,
                diff=_diff(text, source, module, mutant_id),
            )
        )
    return mutants


def _compiles(source: str, module: str) -> bool:
    """Whether ``source`` is valid Python."""
    try:
        compile(source, module, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _diff(reference: str, mutant: str, module: str, mutant_id: str) -> str:
    """A unified diff of the mutant against the reference, two lines of context."""
    lines = difflib.unified_diff(
        reference.splitlines(keepends=True),
        mutant.splitlines(keepends=True),
        fromfile=f"reference/{module}",
        tofile=f"mutant {mutant_id}",
        n=2,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def select(
    mutants: list[MachineMutant],
    operators: Collection[str] | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> list[MachineMutant]:
    """The mutants of the given ``operators`` (all by default), then, with ``sample``, a
    deterministic subset of that many: those whose ids hash lowest with ``seed``. A mutant's
    rank depends on its id alone, so adding or removing others never changes which of the
    remaining ones are picked ahead of each other. The result keeps source order."""
    chosen = [m for m in mutants if operators is None or m.operator in operators]
    if sample is not None and sample < len(chosen):
        ranked = sorted(chosen, key=lambda m: hashlib.sha256(f"{seed}:{m.id}".encode()).digest())
        keep = {m.id for m in ranked[:sample]}
        chosen = [m for m in chosen if m.id in keep]
    return chosen
