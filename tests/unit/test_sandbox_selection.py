"""select_backend: Docker when usable, else process with a warning; forcing."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import sandbox.docker_backend
from sandbox import (
    DaemonUnavailable,
    ImageMissing,
    ProcessSandbox,
    SandboxError,
    select_backend,
)


class FakeDocker:
    """Stands in for DockerSandbox."""

    name = "docker"

    def __init__(self, image: str | None = None, *, runtime: str | None = None) -> None:
        self.image, self.runtime = image, runtime


def _broken(exc: SandboxError) -> Any:
    def factory(*args: object, **kwargs: object) -> None:
        raise exc

    return factory


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)


def test_docker_chosen_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.docker_backend, "DockerSandbox", FakeDocker)
    backend, warning = select_backend(image="img:1", runtime="runsc")
    assert isinstance(backend, FakeDocker) and warning is None
    assert (backend.image, backend.runtime) == ("img:1", "runsc")


def test_fallback_to_process_with_visible_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        sandbox.docker_backend, "DockerSandbox", _broken(DaemonUnavailable("daemon down"))
    )
    with caplog.at_level(logging.WARNING):
        choice = select_backend()
    assert isinstance(choice.backend, ProcessSandbox)
    assert choice.warning is not None
    assert "Docker sandbox unavailable" in choice.warning and "daemon down" in choice.warning
    assert "setup-docker.sh" in choice.warning  # the fix is in the message
    assert choice.warning in caplog.text


def test_forced_docker_raises_instead_of_falling_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.docker_backend, "DockerSandbox", _broken(ImageMissing("no image")))
    with pytest.raises(ImageMissing, match="grader image build"):
        select_backend("docker")
    monkeypatch.setenv("GRADER_SANDBOX", "docker")
    with pytest.raises(ImageMissing):
        select_backend()


def test_forced_process_via_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.docker_backend, "DockerSandbox", FakeDocker)
    monkeypatch.setenv("GRADER_SANDBOX", "process")
    backend, warning = select_backend()
    assert isinstance(backend, ProcessSandbox)
    assert warning == backend.warning


def test_argument_beats_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.docker_backend, "DockerSandbox", FakeDocker)
    monkeypatch.setenv("GRADER_SANDBOX", "process")
    assert isinstance(select_backend("docker").backend, FakeDocker)


def test_unknown_choice_is_an_error() -> None:
    with pytest.raises(SandboxError, match="GRADER_SANDBOX"):
        select_backend("vm")
