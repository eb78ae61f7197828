"""Machine mutation testing of the reference solutions (``grader validate --mutate``).

``operators`` finds mutation sites in a module's AST, ``generate`` turns them into mutants
with stable ids and diffs, ``equivalents`` reads ``equivalent-mutants.toml``, ``run`` grades
the mutants in direct mode in parallel, ``report`` renders the outcome and ``command`` is the
command-line body. Every piece is deterministic: the same reference yields the same mutants,
ids and order.
"""

from grader.mutation.equivalents import Equivalent, load_equivalents
from grader.mutation.generate import MachineMutant, generate_mutants
from grader.mutation.run import ExerciseRun, MutantResult, mutate_exercise

__all__ = [
    "Equivalent",
    "ExerciseRun",
    "MachineMutant",
    "MutantResult",
    "generate_mutants",
    "load_equivalents",
    "mutate_exercise",
]
