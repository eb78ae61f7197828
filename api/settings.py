"""Service settings: defaults, overridden by ``GRADER_*`` environment variables, then by flags.

Built on the grader's own settings (:class:`grader.settings.GraderSettings`): the same
variables, read the same way, plus what only the service needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Self

from pydantic import Field, model_validator

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
    workers: int = Field(default_factory=default_workers, ge=0, le=256)
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
    # Connections (the HTTP server's defences against idle, slow and stalled clients).
    header_timeout: float = Field(10.0, gt=0, description="Seconds to send a request's headers.")
    body_timeout: float = Field(30.0, gt=0, description="Seconds to send a request's body.")
    keepalive_timeout: int = Field(
        5, ge=1, description="Seconds an idle kept-alive connection stays."
    )
    # The fleet (docs/deployment.md): unset broker_url = embedded mode, everything in-process.
    broker_url: str | None = Field(
        None, description="Celery broker (redis://..., amqp://...); set: fleet mode."
    )
    redis_url: str | None = Field(
        None, description="Redis for shared rate limits and events (default: a Redis broker)."
    )
    queue_name: str = Field(
        "grader", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Queue and Redis key prefix."
    )
    lease_seconds: float = Field(
        30.0, ge=1, le=3600, description="Seconds a grading's lease lasts unless renewed."
    )
    sweep_interval: float = Field(5.0, gt=0, le=300, description="Seconds between sweeps.")
    redispatch_after: float | None = Field(
        None, ge=1, description="Seconds before a queued submission is sent to the queue again."
    )
    visibility_timeout: float = Field(
        3600.0, ge=10, description="Seconds before the broker redelivers an unacked message."
    )

    @model_validator(mode="before")
    @classmethod
    def _fleet_defaults(cls, values: object) -> object:
        """An API node of a fleet grades nothing itself unless told to (``workers``)."""
        if isinstance(values, dict) and values.get("broker_url") and "workers" not in values:
            return {**values, "workers": 0}
        return values

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """As :meth:`GraderSettings.from_env`; 0 workers also needs a broker (else nothing
        would grade)."""
        settings = super().from_env(**overrides)
        if settings.broker_url is None and settings.workers < 1:
            raise SettingsInvalid(
                "invalid setting: GRADER_WORKERS: 0 needs GRADER_BROKER_URL (fleet mode); "
                "embedded mode grades in-process with at least 1 worker"
            )
        return settings

    @property
    def fleet(self) -> bool:
        """Whether gradings go through a broker to grading nodes (else: in-process)."""
        return self.broker_url is not None

    @property
    def redispatch_seconds(self) -> float:
        """When a queued submission's message counts as lost: in a fleet, once the broker
        would have redelivered it; embedded, soon (the queue of a dead process is gone)."""
        if self.redispatch_after is not None:
            return self.redispatch_after
        return self.visibility_timeout + self.lease_seconds if self.fleet else 30.0

    @property
    def shared_redis_url(self) -> str | None:
        """The Redis that API nodes share limits and events through, if any."""
        if self.redis_url:
            return self.redis_url
        broker = self.broker_url or ""
        return broker if broker.startswith(("redis://", "rediss://")) else None

    @property
    def is_loopback(self) -> bool:
        """Whether the service listens on this machine only."""
        return self.host in ("127.0.0.1", "::1", "localhost") or self.host.startswith("127.")
