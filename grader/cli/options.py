"""Options whose default is a setting: the flag wins, else the ``GRADER_*`` variable.

The settings are read once, by :func:`grader.settings.grader_settings`; no option reads the
environment itself (no ``envvar=``), so every variable has one reader.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grader.settings import grader_settings


def from_settings(field: str) -> Callable[[Any], Any]:
    """An option callback: the flag's value when given, else the setting ``field`` (which
    is ``None`` when its variable is not set either)."""

    def flag_or_setting(value: Any) -> Any:
        return value if value is not None else getattr(grader_settings(), field)

    return flag_or_setting
