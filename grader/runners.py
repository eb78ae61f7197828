"""Choose how a hidden suite runs: directly (trusted) or isolated in a sandbox."""

from __future__ import annotations

from enum import StrEnum

from grader.errors import SandboxUnavailable
from grader.harness.runner import SuiteRunner
from grader.harness.supervisor import ChildRunner
from sandbox import SandboxError, select_backend


class SandboxChoice(StrEnum):
    """Where the submission runs while the hidden suite is graded."""

    AUTO = "auto"
    DOCKER = "docker"
    PROCESS = "process"
    NONE = "none"


def make_runner(choice: SandboxChoice, image: str | None = None) -> tuple[SuiteRunner, str | None]:
    """A runner for ``choice``, and a warning the user must see, if any.

    ``auto`` picks Docker when the daemon and the runner image are there, else the process
    sandbox with a warning. A forced backend that cannot run raises ``SandboxUnavailable``.
    """
    if choice is SandboxChoice.NONE:
        return ChildRunner(), "direct mode: the submission runs unsandboxed, next to the tests"
    try:
        backend, warning = select_backend(
            None if choice is SandboxChoice.AUTO else choice.value, image=image
        )
    except SandboxError as exc:
        raise SandboxUnavailable(str(exc)) from exc
    name = backend.name
    backend.close()
    return ChildRunner(backend=name, image=image), warning
