"""Translation of docker SDK / requests / :mod:`sandbox.docker_lite` errors into
:mod:`sandbox.errors`. The SDK is looked at only if it was imported: an error cannot come from
a library nobody loaded."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from sandbox.docker_lite import EngineAPIError
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
    if isinstance(exc, EngineAPIError):
        return _translate_api_error(exc.status_code, exc.explanation, image)
    if any(isinstance(e, (ConnectionError, FileNotFoundError, TimeoutError)) for e in chain):
        return DaemonUnavailable("the Docker daemon is not reachable")
    if "docker.errors" not in sys.modules:
        return SandboxError(f"unexpected error talking to Docker: {exc!r}")
    return _translate_sdk_error(exc, chain, text, image)


def _translate_api_error(status: int, explanation: str, image: str | None) -> SandboxError:
    """An error status from the daemon, seen by :class:`~sandbox.docker_lite.LiteDockerAPI`."""
    lowered = explanation.lower()
    if status == 404 and "image" in lowered:
        return ImageMissing(f"runner image {image or ''} is not present".replace("  ", " "))
    if "runtime" in lowered and ("unknown" in lowered or "invalid" in lowered):
        return RuntimeMissing(f"container runtime not available: {explanation}")
    return SandboxError(f"Docker API error: {explanation}")


def _translate_sdk_error(
    exc: BaseException, chain: list[BaseException], text: str, image: str | None
) -> SandboxError:
    """An error raised by the Docker SDK or the ``requests`` under it."""
    import docker.errors
    import requests.exceptions

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
    transport_errors = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
    if any(isinstance(e, transport_errors) for e in chain) or (
        isinstance(exc, docker.errors.DockerException)
        and "error while fetching server api version" in text
    ):
        return DaemonUnavailable("the Docker daemon is not reachable")
    if isinstance(exc, docker.errors.DockerException):
        return SandboxError(f"Docker error: {exc}")
    return SandboxError(f"unexpected error talking to Docker: {exc!r}")
