"""Service settings: defaults, overridden by ``GRADER_*`` environment variables, then by flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.errors import GraderError
from grader.runners import SandboxChoice

#: Prefix of every environment variable the service reads (``database_url`` ->
#: ``GRADER_DATABASE_URL``).
ENV_PREFIX = "GRADER_"


def default_database_url() -> str:
    """A SQLite file in the user's data directory, so ``serve`` and ``keys`` agree on it."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'hidden-grader' / 'grader.sqlite3'}"


def default_workers() -> int:
    """One grading worker per CPU."""
    return os.cpu_count() or 1


class SettingsInvalid(GraderError):
    """A setting has a value the service cannot use; the message names it."""


class Settings(BaseModel):
    """Everything the service can be told; see ``docs/service.md`` for what each one does."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = Field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(default_factory=default_workers, ge=1, le=256)
    sandbox: SandboxChoice = SandboxChoice.AUTO
    open_mode: bool = Field(False, description="Serve one anonymous user, without API keys.")
    exercises_dir: Path | None = None
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    rate_per_minute: float = Field(30.0, gt=0, description="Submissions per key per minute.")
    rate_burst: int = Field(10, ge=1, description="Submissions a key may create at once.")
    max_queued_per_key: int = Field(20, ge=1, description="Unfinished submissions per key.")
    max_wait: float = Field(30.0, ge=0, le=300, description="Longest long-poll, in seconds.")
    shutdown_grace: float = Field(30.0, ge=0, description="Seconds running gradings may finish.")
    max_attempts: int = Field(3, ge=1, description="Gradings a crash may interrupt before 'error'.")
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``GRADER_*`` variables in ``environ``; ``overrides`` that are not
        ``None`` win (they are command-line flags). ``SettingsInvalid`` names a bad value."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw.strip() != "":
                values[name] = raw.strip()
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{ENV_PREFIX}{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                for err in exc.errors()
            )
            raise SettingsInvalid(f"invalid setting: {problems}") from None

    @property
    def is_loopback(self) -> bool:
        """Whether the service listens on this machine only."""
        return self.host in ("127.0.0.1", "::1", "localhost") or self.host.startswith("127.")
