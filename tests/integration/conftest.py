"""Fixtures for the sandbox integration tests (real Docker daemon, real bwrap).

``docker_sandbox``: a :class:`DockerSandbox`. When the daemon or the runner
image is missing the test is skipped with the reason, or fails when
``GRADER_REQUIRE_DOCKER=1`` or ``CI=true`` (CI must not silently skip the
security tests). After every test no container with the sandbox label may be
left by this process; leftovers are removed and the test errors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sandbox import DockerSandbox, ProcessSandbox, SandboxError
from sandbox.process_backend import find_bwrap
from sandbox.reaper import LABEL, OWNER_LABEL, owner_id


def _docker_required() -> bool:
    return (
        os.environ.get("GRADER_REQUIRE_DOCKER") == "1" or os.environ.get("CI", "").lower() == "true"
    )


@pytest.fixture(scope="session")
def docker_backend() -> Iterator[DockerSandbox]:
    """One Docker backend for the session (its construction reaps leftovers)."""
    try:
        backend = DockerSandbox()
    except SandboxError as exc:
        reason = f"Docker sandbox unavailable: {exc}"
        if _docker_required():
            pytest.fail(f"{reason} [GRADER_REQUIRE_DOCKER=1 or CI=true]", pytrace=False)
        pytest.skip(reason)
    yield backend
    backend.close()


def _labelled(backend: DockerSandbox) -> list[dict[str, object]]:
    """Sandbox containers of this test process (other graders may share the daemon)."""
    found: list[dict[str, object]] = backend.api.containers(
        all=True, filters={"label": [f"{LABEL}=1", f"{OWNER_LABEL}={owner_id()}"]}
    )
    return found


@pytest.fixture
def docker_sandbox(docker_backend: DockerSandbox) -> Iterator[DockerSandbox]:
    """The Docker backend; asserts afterwards that the test left no container."""
    before = {c["Id"] for c in _labelled(docker_backend)}
    assert not before, f"labelled containers exist before the test: {before}"
    yield docker_backend
    leftovers = _labelled(docker_backend)
    for info in leftovers:
        docker_backend.api.remove_container(info["Id"], v=True, force=True)
    assert not leftovers, f"test left sandbox containers behind: {leftovers}"


@pytest.fixture(scope="session")
def bwrap_sandbox() -> ProcessSandbox:
    """The process backend with bubblewrap; skipped where bwrap cannot work."""
    if find_bwrap() is None:
        pytest.skip("bubblewrap missing or user namespaces disabled on this host")
    return ProcessSandbox(use_bwrap=True)


@pytest.fixture(scope="session")
def plain_sandbox() -> ProcessSandbox:
    """The process backend without bubblewrap (rlimits only; no isolation)."""
    return ProcessSandbox(use_bwrap=False)
