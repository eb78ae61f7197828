"""The grader's settings, in one place: defaults, overridden by ``GRADER_*`` environment
variables, overridden by command-line flags.

Only this module (and the service's ``api.settings``, built on it) reads the environment for
them; everything below the command line and the service gets the resolved values as
arguments. The ``sandbox`` package reads no environment at all.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Self

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from grader.errors import GraderError
from grader.warm import WarmPoolSettings

#: Prefix of every environment variable of a setting (``sandbox_image`` ->
#: ``GRADER_SANDBOX_IMAGE``).
ENV_PREFIX = "GRADER_"


class SandboxChoice(StrEnum):
    """Where the submission runs while the hidden suite is graded."""

    AUTO = "auto"
    DOCKER = "docker"
    PROCESS = "process"
    NONE = "none"


class SettingsInvalid(GraderError):
    """A setting has a value the grader cannot use; the message names its variable."""


class GraderSettings(BaseSettings):
    """What the grader itself can be told (the service's ``api.settings.Settings`` adds more).

    ``None`` means "not set": the sandbox package's own default for the image and runtime,
    the shipped exercises, and each command's own sandbox default (``auto``; ``none`` for
    ``grader validate``).
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        frozen=True,
        extra="forbid",
        # As a plain model: a default (e.g. a CPU count as the worker count) is not validated.
        validate_default=False,
    )

    sandbox: SandboxChoice | None = Field(
        None, description="auto, docker, process or none (direct mode: trusted code only)."
    )
    sandbox_image: str | None = Field(
        None, description="Runner image tag (default hidden-grader-runner:1)."
    )
    sandbox_runtime: str | None = Field(
        None, description="OCI runtime of the containers, e.g. runsc (default: the daemon's)."
    )
    exercises_dir: Path | None = Field(
        None, description="Directory of exercises to use instead of the shipped ones."
    )
    pool_size: int = Field(
        4,
        ge=0,
        le=64,
        description="Warm Docker sandboxes kept ready per shape of limits by processes that "
        "grade many submissions (grader validate, service workers); 0 turns the pool off.",
    )
    pool_memory_mb: int = Field(
        2048,
        ge=0,
        description="Upper bound on the summed memory limits of the warm sandboxes, in MB.",
    )
    resident_references: int = Field(
        2,
        ge=0,
        le=16,
        description="Reference sandboxes kept running between gradings by the processes that "
        "keep a warm pool (one lent to each grading at a time); 0 turns them off.",
    )

    bytecode_dir: str | None = Field(
        None,
        description="Where harness processes cache compiled code, hidden suites included "
        "(default ~/.cache/hidden-grader/bytecode, under XDG_CACHE_HOME if set); off: none.",
    )

    def warm_pool(self) -> WarmPoolSettings:
        """The warm pool's settings."""
        return WarmPoolSettings(
            size=self.pool_size,
            memory_mb=self.pool_memory_mb,
            residents=self.resident_references,
        )

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, values: Any) -> Any:
        """Surrounding blanks are dropped, and a blank value counts as not set."""
        if not isinstance(values, dict):
            return values
        stripped = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
        return {k: v for k, v in stripped.items() if v != ""}

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Settings from the defaults and ``GRADER_*`` variables; ``overrides`` that are not
        ``None`` win (they are command-line flags). ``SettingsInvalid`` names a bad value."""
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        except ValidationError as exc:
            problems = "; ".join(
                f"{ENV_PREFIX}{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                for err in exc.errors()
            )
            raise SettingsInvalid(f"invalid setting: {problems}") from None


@lru_cache
def grader_settings() -> GraderSettings:
    """The grader's settings from the environment, read once per process."""
    return GraderSettings.from_env()
