"""Translation of docker SDK / requests errors into :mod:`sandbox.errors`."""

from __future__ import annotations

from collections.abc import Iterator

import docker.errors
import requests.exceptions

from sandbox.errors import (
    DaemonUnavailable,
    ImageMissing,
    PermissionDenied,
    RuntimeMissing,
    SandboxError,
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes/contexts and exceptions nested in ``args``."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        cur = todo.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        todo.extend(a for a in cur.args if isinstance(a, BaseException))
        todo.extend(e for e in (cur.__cause__, cur.__context__) if e is not None)


def translate_docker_error(exc: BaseException, *, image: str | None = None) -> SandboxError:
    """Map a docker SDK (or transport) exception to a :class:`SandboxError`.

    Use as ``raise translate_docker_error(exc) from exc``.
    """
    if isinstance(exc, SandboxError):
        return exc
    chain = list(_chain(exc))
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, PermissionError) for e in chain) or "permission denied" in text:
        return PermissionDenied("permission denied on the Docker socket")
    if isinstance(exc, docker.errors.ImageNotFound) or (
        isinstance(exc, docker.errors.NotFound) and "image" in text
    ):
        return ImageMissing(f"runner image {image or ''} is not present".replace("  ", " "))
    if isinstance(exc, docker.errors.APIError):
        explanation = str(exc.explanation or exc)
        if "runtime" in explanation.lower() and (
            "unknown" in explanation.lower() or "invalid" in explanation.lower()
        ):
            return RuntimeMissing(f"container runtime not available: {explanation}")
        return SandboxError(f"Docker API error: {explanation}")
    transport_errors = (
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
        ConnectionError,
        FileNotFoundError,
    )
    if any(isinstance(e, transport_errors) for e in chain) or (
        isinstance(exc, docker.errors.DockerException)
        and "error while fetching server api version" in text
    ):
        return DaemonUnavailable("the Docker daemon is not reachable")
    if isinstance(exc, docker.errors.DockerException):
        return SandboxError(f"Docker error: {exc}")
    return SandboxError(f"unexpected error talking to Docker: {exc!r}")
