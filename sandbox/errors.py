"""The sandbox's own exception hierarchy.

Backends translate their library's errors (``docker.errors.*``, ``OSError``)
into these at the boundary, so callers never need to import docker. Each
class carries ``fix``: the command that fixes it, shown by ``str()``.
"""

from __future__ import annotations


class SandboxError(Exception):
    """Base class of every error raised by :mod:`sandbox`."""

    fix: str = ""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        if fix is not None:
            self.fix = fix
        super().__init__(message)

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} (fix: {self.fix})" if self.fix else message


class BackendUnavailable(SandboxError):
    """The requested backend cannot be used on this host."""


class DaemonUnavailable(BackendUnavailable):
    """The Docker daemon does not answer."""

    # An installed grader has no scripts/ folder: name commands that exist wherever it runs.
    fix = (
        "install and start Docker (Debian/Ubuntu: sudo apt-get install docker.io; "
        "sudo service docker start), then run grader doctor"
    )


class PermissionDenied(BackendUnavailable):
    """The Docker socket exists but this user may not use it."""

    fix = "sudo usermod -aG docker $USER && newgrp docker"


class ImageMissing(BackendUnavailable):
    """The runner image is not present locally (it is never pulled)."""

    fix = "grader image build --offline"


class RuntimeMissing(BackendUnavailable):
    """The configured container runtime (e.g. runsc) is not registered."""

    fix = "unset GRADER_SANDBOX_RUNTIME"


class SandboxStartError(SandboxError):
    """The sandbox could not be set up or the program could not be started."""


class ChannelClosed(SandboxError):
    """The program's stdin is closed or the program has ended."""


class SandboxTimeout(SandboxError, TimeoutError):
    """A caller-side timeout (``recv``/``wait``/``send``) passed; the program may still run.

    From ``send``, :attr:`written` says how many bytes of the data went through (the caller
    may send the rest later); ``None`` where that is unknown.
    """

    written: int | None = None
