"""Service settings: defaults, overridden by ``GRADER_*`` environment variables, then by flags.

Built on the grader's own settings (:class:`grader.settings.GraderSettings`): the same
variables, read the same way, plus what only the service needs.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from grader.settings import GraderSettings, SandboxChoice, SettingsInvalid

__all__ = ["Settings", "SettingsInvalid", "default_database_url", "default_workers"]


def default_database_url() -> str:
    """A SQLite file in the user's data directory, so ``serve`` and ``keys`` agree on it."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'hidden-grader' / 'grader.sqlite3'}"


def default_workers() -> int:
    """One grading worker per CPU."""
    return os.cpu_count() or 1


class Settings(GraderSettings):
    """Everything the service can be told; see ``docs/service.md`` for what each one does.

    ``Settings.from_env(**flags)`` reads them (flags that are not ``None`` win); the
    sandbox image and runtime and the exercise directory come from :class:`GraderSettings`.
    """

    database_url: str = Field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(default_factory=default_workers, ge=1, le=256)
    sandbox: SandboxChoice = SandboxChoice.AUTO
    open_mode: bool = Field(False, description="Serve one anonymous user, without API keys.")
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    rate_per_minute: float = Field(30.0, gt=0, description="Submissions per key per minute.")
    rate_burst: int = Field(10, ge=1, description="Submissions a key may create at once.")
    max_queued_per_key: int = Field(20, ge=1, description="Unfinished submissions per key.")
    max_wait: float = Field(30.0, ge=0, le=300, description="Longest long-poll, in seconds.")
    shutdown_grace: float = Field(30.0, ge=0, description="Seconds running gradings may finish.")
    max_attempts: int = Field(3, ge=1, description="Gradings a crash may interrupt before 'error'.")
    log_level: str = "info"

    @property
    def is_loopback(self) -> bool:
        """Whether the service listens on this machine only."""
        return self.host in ("127.0.0.1", "::1", "localhost") or self.host.startswith("127.")
