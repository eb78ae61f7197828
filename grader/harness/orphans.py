"""Cleanups a harness child runs if its parent dies (isolated mode registers its sandboxes').

A module of its own, with no imports, because the child needs it before anything else and
starts faster without pydantic and the exercise model behind it.
"""

from __future__ import annotations

from collections.abc import Callable

ON_ORPHANED: list[Callable[[], None]] = []
