"""sandbox.doctor checks and the `grader doctor` / `grader image build` commands."""

from __future__ import annotations

import docker
import pytest
import requests.exceptions
import typer
from typer.testing import CliRunner

import sandbox.doctor
import sandbox.image
from grader.cli.sandbox_cmds import register
from sandbox import SandboxError, process_backend
from sandbox.doctor import Check, run_checks


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Test app."""

    return app


def test_daemon_down_is_one_clear_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def down(**kwargs: object) -> None:
        raise docker.errors.DockerException(
            "Error while fetching server API version",
        ) from requests.exceptions.ConnectionError("refused")

    monkeypatch.setattr(docker, "from_env", down)
    monkeypatch.setattr(process_backend, "find_bwrap", lambda: None)
    checks = {c.name: c for c in run_checks("img:1")}
    assert not checks["docker daemon"].ok
    assert (
        checks["docker daemon"].fix is not None and "grader doctor" in checks["docker daemon"].fix
    )
    assert checks["docker permission"].ok
    assert not checks["runner image"].ok
    assert checks["runner image"].fix == "grader image build --offline --tag img:1"
    assert not checks["bubblewrap"].ok and checks["bubblewrap"].required  # docker unusable


def test_permission_denied_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(**kwargs: object) -> None:
        raise docker.errors.DockerException("x", PermissionError(13, "Permission denied"))

    monkeypatch.setattr(docker, "from_env", denied)
    checks = {c.name: c for c in run_checks("img:1")}
    assert checks["docker daemon"].ok and not checks["docker permission"].ok
    assert "usermod" in (checks["docker permission"].fix or "")


def test_cli_doctor_exit_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    good = [Check("docker daemon", True, "ok"), Check("bubblewrap", False, "no", "apt", False)]
    monkeypatch.setattr(sandbox.doctor, "run_checks", lambda image, runtime: good)
    result = runner.invoke(_app(), ["doctor"])
    assert result.exit_code == 0 and "sandbox ready" in result.output

    bad = [Check("runner image", False, "missing", "grader image build --offline")]
    monkeypatch.setattr(sandbox.doctor, "run_checks", lambda image, runtime: bad)
    result = runner.invoke(_app(), ["doctor"])
    assert result.exit_code == 1 and "grader image build --offline" in result.output
    assert "Traceback" not in result.output

    def crash(image: object, runtime: object) -> list[Check]:
        raise RuntimeError("bug")

    monkeypatch.setattr(sandbox.doctor, "run_checks", crash)
    assert runner.invoke(_app(), ["doctor"]).exit_code == 2


def test_cli_image_build(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bool, str | None]] = []

    def fake_build(offline: bool, tag: str | None, *, log: object) -> str:
        calls.append((offline, tag))
        return tag or "hidden-grader-runner:1"

    monkeypatch.setattr(sandbox.image, "build_image", fake_build)
    runner = CliRunner()
    result = runner.invoke(_app(), ["image", "build", "--offline", "--tag", "x:2"])
    assert result.exit_code == 0 and calls == [(True, "x:2")]

    def failing(offline: bool, tag: str | None, *, log: object) -> str:
        raise SandboxError("no registry", fix="grader image build --offline")

    monkeypatch.setattr(sandbox.image, "build_image", failing)
    result = runner.invoke(_app(), ["image", "build"])
    assert result.exit_code == 1 and "--offline" in result.output
    assert runner.invoke(_app(), ["image", "build", "--bogus"]).exit_code == 2
