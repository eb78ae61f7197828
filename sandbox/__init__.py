"""Run untrusted programs under limits and talk to them over a byte channel.

The package knows nothing of exercises. A :class:`SandboxJob` (argv, files,
:class:`SandboxLimits`) is started by a :class:`SandboxBackend`; the
:class:`SandboxRun` it returns is a two-way byte channel to the program
(``send``/``recv``/``close_stdin``) that ends in a :class:`SandboxResult`;
its ``cpu_usage()`` reads the run's CPU seconds from the host.

Backends:

* :class:`DockerSandbox`: hardened throw-away container (the security boundary).
* :class:`ProcessSandbox`: rlimited subprocess, inside bubblewrap namespaces
  when available; check ``security_boundary``.
* :class:`FakeSandbox`: Python callables, for tests of the layers above.

:func:`select_backend` picks one (``prefer="docker"|"process"`` forces it)
and returns ``(backend, warning)``; callers must print the warning. The
package reads no environment variable: callers pass every choice in.
"""

from typing import TYPE_CHECKING, Any

from sandbox.base import SandboxBackend, SandboxRun
from sandbox.errors import (
    BackendUnavailable,
    ChannelClosed,
    DaemonUnavailable,
    ImageMissing,
    PermissionDenied,
    RuntimeMissing,
    SandboxError,
    SandboxStartError,
    SandboxTimeout,
)
from sandbox.fake import FakeIO, FakeSandbox
from sandbox.limits import SandboxLimits
from sandbox.models import SandboxJob, SandboxResult
from sandbox.process_backend import ProcessSandbox
from sandbox.selection import BackendChoice, select_backend

__all__ = [
    "BackendChoice",
    "BackendUnavailable",
    "ChannelClosed",
    "DaemonUnavailable",
    "DockerSandbox",
    "FakeIO",
    "FakeSandbox",
    "ImageMissing",
    "PermissionDenied",
    "ProcessSandbox",
    "RuntimeMissing",
    "SandboxBackend",
    "SandboxError",
    "SandboxJob",
    "SandboxLimits",
    "SandboxResult",
    "SandboxRun",
    "SandboxStartError",
    "SandboxTimeout",
    "select_backend",
]

if TYPE_CHECKING:
    from sandbox.docker_backend import DockerSandbox


def __getattr__(name: str) -> Any:
    """Import the Docker backend (and the docker SDK, ~0.1 s) only when it is asked for."""
    if name == "DockerSandbox":
        from sandbox.docker_backend import DockerSandbox

        return DockerSandbox
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
