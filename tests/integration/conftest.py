"""Fixtures for the sandbox integration tests (real Docker daemon, real bwrap).

``backend``: each sandbox backend that is a security boundary here ("process", "docker"),
checked by :func:`backend_or_skip`, with no leftover container after the test.
``docker_sandbox``: a :class:`DockerSandbox`. When the daemon or the runner
image is missing the test is skipped with the reason, or fails when
``GRADER_REQUIRE_DOCKER=1`` or ``CI=true`` (CI must not silently skip the
security tests). After every test no container with the sandbox label may be
left by this process; leftovers are removed and the test errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import docker.errors
import pytest

from sandbox import DockerSandbox, ProcessSandbox, SandboxError, select_backend
from sandbox.process_backend import find_bwrap
from sandbox.reaper import LABEL, OWNER_LABEL, owner_id

from ..conftest import docker_required


@pytest.fixture(scope="session")
def docker_backend() -> Iterator[DockerSandbox]:
    """One Docker backend for the session (its construction reaps leftovers)."""
    try:
        backend = DockerSandbox()
    except SandboxError as exc:
        reason = f"Docker sandbox unavailable: {exc}"
        if docker_required():
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
        with contextlib.suppress(docker.errors.NotFound):  # one being removed just then
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


def backend_or_skip(name: str) -> None:
    """Fail (in CI) or skip when the backend cannot serve as a security boundary here."""
    if name == "process":
        if not ProcessSandbox().security_boundary:
            pytest.skip("the process backend is no security boundary without bubblewrap")
        return
    try:
        backend, _ = select_backend("docker")
        backend.close()
    except SandboxError as exc:
        if docker_required():
            pytest.fail(f"Docker is required in this run but unavailable: {exc}")
        pytest.skip(f"Docker unavailable: {exc}")


def leftover_containers() -> list[str]:
    """Sandbox containers whose owner is gone: what a grading must never leave."""
    import docker

    from sandbox.reaper import LABEL, is_leftover

    api = docker.APIClient()
    try:
        return [c["Id"][:12] for c in api.containers(all=True, filters={"label": f"{LABEL}=1"})
                if is_leftover(c.get("Labels") or {})]
    finally:
        api.close()


@pytest.fixture(params=["process", pytest.param("docker", marks=pytest.mark.docker)])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each sandbox backend that is a security boundary here (Docker fails, not skips, when
    required), and no container left behind after the test."""
    backend_or_skip(request.param)
    yield request.param
    if request.param == "docker":
        assert leftover_containers() == []
