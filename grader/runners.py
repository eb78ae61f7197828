"""Choose how a hidden suite runs: directly (trusted) or isolated in a sandbox."""

from __future__ import annotations

from enum import StrEnum

from grader.harness.direct import DirectRunner
from grader.harness.runner import SuiteRunner


class SandboxChoice(StrEnum):
    """Where the submission runs while the hidden suite is graded."""

    AUTO = "auto"
    DOCKER = "docker"
    PROCESS = "process"
    NONE = "none"


def make_runner(choice: SandboxChoice) -> tuple[SuiteRunner, str | None]:
    """A runner for ``choice``, and a warning to show the user, if any."""
    return DirectRunner(), None
