"""The PATH argument of ``grader grade``: usage errors before anything runs; where the module is.

A path that does not lead to the module (missing, an empty folder, a file of another name) is
the command's usage error, as ``pytest`` and the Exercism CLI treat a wrong path: one line on
standard error and exit 2, not a graded report of 0 points. What is *in* the module (empty, a
syntax error, an import error) is the submission's, and is graded.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from grader.cli.output import error

#: How many of a folder's other modules a usage error names.
_LISTED = 5


def usage_problem(path: Path, module: str) -> str | None:
    """Why ``path`` does not name ``module`` or a folder holding it; ``None`` when it does."""
    if path.is_dir():
        if (path / module).is_file():
            return None
        others = sorted(p.name for p in path.glob("*.py"))
        listed = ", ".join(others[:_LISTED]) + (", ..." if len(others) > _LISTED else "")
        holds = f"it holds {listed}" if others else "it holds no .py file"
        return f"no {module} in {path} ({holds})"
    if not path.exists():
        return f"no such file or folder: {path}"
    if path.name != module:
        return f"the submission must be named {module}, not {path.name}"
    return None


def check_path(path: Path, module: str) -> None:
    """Exit 2 with one line when ``path`` is a usage error (see :func:`usage_problem`)."""
    problem = usage_problem(path, module)
    if problem:
        error(problem)
        raise typer.Exit(2)


def module_file(path: Path, module: str) -> str:
    """The module's path as CI annotations name it: relative to the working directory (the
    workspace) when it lies inside it, in POSIX form."""
    file = path / module if path.is_dir() else path
    with contextlib.suppress(ValueError):  # outside the workspace: as given
        file = file.resolve().relative_to(Path.cwd().resolve())
    return file.as_posix()
