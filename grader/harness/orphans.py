"""Cleanups a harness child runs if its parent dies (isolated mode registers its sandboxes').

A module of its own, with no imports, because the child needs it before anything else and
starts faster without pydantic and the exercise model behind it.
"""

from __future__ import annotations

from collections.abc import Callable

ON_ORPHANED: list[Callable[[], None]] = []

#: The process whose end orphans this child, when that is not the grader named in its spec: a
#: child forked by the fork server (``grader.harness.zygote``) watches the fork server, which
#: ends when the grader does.
PARENT: int | None = None
