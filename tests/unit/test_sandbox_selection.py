"""select_backend: Docker when usable, else process with a warning; forcing; no environment."""

from __future__ import annotations

import logging
import re
from pathlib import Path
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
from sandbox.image import IMAGE_TAG, default_image, default_runtime


class FakeDocker:
    """Stands in for DockerSandbox."""

    name = "docker"

    def __init__(
        self, image: str | None = None, *, runtime: str | None = None, **options: object
    ) -> None:
        self.image, self.runtime = image, runtime


def _broken(exc: SandboxError) -> Any:
    def factory(*args: object, **kwargs: object) -> None:
        raise exc

    return factory


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
    assert "grader doctor" in choice.warning  # the fix is in the message
    assert choice.warning in caplog.text


def test_forced_docker_raises_instead_of_falling_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.docker_backend, "DockerSandbox", _broken(ImageMissing("no image")))
    with pytest.raises(ImageMissing, match="grader image build"):
        select_backend("docker")


def test_forced_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.docker_backend, "DockerSandbox", FakeDocker)
    backend, warning = select_backend("process")
    assert isinstance(backend, ProcessSandbox)
    assert warning == backend.warning


@pytest.mark.parametrize("prefer", [None, "", "auto", " Auto "])
def test_auto_and_none_let_it_choose(monkeypatch: pytest.MonkeyPatch, prefer: str | None) -> None:
    monkeypatch.setattr(sandbox.docker_backend, "DockerSandbox", FakeDocker)
    assert isinstance(select_backend(prefer, image="img:1").backend, FakeDocker)
    monkeypatch.setattr(sandbox.docker_backend, "DockerSandbox", _broken(DaemonUnavailable("down")))
    assert isinstance(select_backend(prefer).backend, ProcessSandbox)


def test_environment_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """The choice, image and runtime come from the arguments only."""
    monkeypatch.setattr(sandbox.docker_backend, "DockerSandbox", FakeDocker)
    monkeypatch.setenv("GRADER_SANDBOX", "process")
    monkeypatch.setenv("GRADER_SANDBOX_IMAGE", "from-env:1")
    monkeypatch.setenv("GRADER_SANDBOX_RUNTIME", "from-env")
    backend, warning = select_backend()
    assert isinstance(backend, FakeDocker) and warning is None
    assert (backend.image, backend.runtime) == (None, None)
    monkeypatch.setenv("GRADER_SANDBOX", "vm")
    assert isinstance(select_backend("docker").backend, FakeDocker)


def test_defaults_are_constants(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SANDBOX_IMAGE", "from-env:1")
    monkeypatch.setenv("GRADER_SANDBOX_RUNTIME", "from-env")
    assert default_image() == IMAGE_TAG and default_runtime() is None


def test_unknown_choice_is_an_error() -> None:
    with pytest.raises(SandboxError, match="auto, docker, process"):
        select_backend("vm")


def test_sandbox_package_reads_no_environment() -> None:
    """No module of ``sandbox`` reads a variable: the grader passes every setting in.

    (The sandboxed program's own environment, ``{"PATH": ...}``, is not a read.)
    """
    reads = re.compile(r"\benviron\b|getenv")
    root = Path(sandbox.__file__).parent
    found = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if reads.search(line)
    ]
    assert found == []
