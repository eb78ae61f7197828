"""Choosing a backend: Docker when it is usable, else the process backend, loudly."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from sandbox.base import SandboxBackend
from sandbox.errors import BackendUnavailable, SandboxError
from sandbox.limits import SandboxLimits

log = logging.getLogger(__name__)

CHOICES = ("docker", "process")
#: What ``prefer`` may also be to let :func:`select_backend` choose (as ``None`` does).
AUTO = "auto"


class BackendChoice(NamedTuple):
    """What :func:`select_backend` returns; unpacks as ``backend, warning = ...``.

    ``warning`` is a sentence the caller must show the operator, or ``None``.
    """

    backend: SandboxBackend
    warning: str | None


def select_backend(
    prefer: str | None = None,
    *,
    image: str | None = None,
    runtime: str | None = None,
    warm: Callable[[SandboxLimits], str | None] | None = None,
    docker_host: str | None = None,
) -> BackendChoice:
    """Pick the sandbox backend.

    The choice comes from the arguments only (this package reads no
    environment variable): ``prefer`` may be ``"docker"`` or ``"process"`` to
    force one; a forced backend that cannot be used raises its
    :class:`~sandbox.errors.SandboxError` (with the fix) instead of falling
    back. ``None`` or ``"auto"``: Docker when the daemon and the image are
    there, else the process backend plus a warning saying why and how to get
    Docker. The warning is also logged. ``image``, ``runtime`` and ``warm`` (where to take
    warm containers, see :class:`~sandbox.docker_backend.DockerSandbox`) go to the Docker
    backend (``None``: its defaults). With ``warm`` the caller owns a pool, which reaps, and
    the runs talk to the daemon without the Docker SDK (:mod:`sandbox.docker_lite`) when
    ``docker_host`` (the caller's ``DOCKER_HOST``) names a local socket or nothing.
    """
    choice = (prefer or "").strip().lower() or AUTO
    if choice not in (AUTO, *CHOICES):
        raise SandboxError(
            f"unknown sandbox backend {choice!r}",
            fix=f"choose one of: {', '.join((AUTO, *CHOICES))}",
        )
    from sandbox.docker_backend import DockerSandbox
    from sandbox.docker_lite import LiteDockerAPI, local_socket_path
    from sandbox.process_backend import ProcessSandbox

    def docker() -> DockerSandbox:
        # With warm containers (the harness child) the runs need only a few daemon calls:
        # no Docker SDK on the path to the first test (sandbox.docker_lite).
        socket_path = local_socket_path(docker_host) if warm is not None else None
        api = LiteDockerAPI(socket_path) if socket_path else None
        return DockerSandbox(
            image, runtime=runtime, warm=warm, reap_leftovers=warm is None, api=api
        )

    if choice == "docker":
        return BackendChoice(docker(), None)
    if choice == "process":
        backend = ProcessSandbox()
        return BackendChoice(backend, _warn(backend.warning))
    try:
        return BackendChoice(docker(), None)
    except BackendUnavailable as exc:
        backend = ProcessSandbox()
        why = f"Docker sandbox unavailable: {exc}. Falling back to the process sandbox"
        detail = (
            "with bubblewrap namespaces (weaker than Docker)"
            if backend.security_boundary
            else f"-- {backend.warning}"
        )
        return BackendChoice(backend, _warn(f"{why} {detail}."))


def _warn(text: str | None) -> str | None:
    """Log ``text`` as a warning and return it."""
    if text:
        log.warning("%s", text)
    return text
