"""Settings: read once, defaults < GRADER_* variables < flags, passed down to the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import grader.cli.grading
import grader.runners
import sandbox.docker_backend
import sandbox.doctor
import sandbox.image
from grader.cli import app
from grader.harness.supervisor import ChildRunner
from grader.runners import make_runner
from grader.settings import GraderSettings, SandboxChoice, SettingsInvalid, grader_settings
from sandbox.doctor import Check

from ..conftest import FIXTURE_EXERCISES

runner = CliRunner()
FIX = ["--exercises", str(FIXTURE_EXERCISES)]


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No GRADER_* variable of the developer's, and settings read afresh for each test."""
    for name in [n for n in os.environ if n.startswith("GRADER_")]:
        monkeypatch.delenv(name)
    grader_settings.cache_clear()
    yield monkeypatch
    grader_settings.cache_clear()


class FakeDocker:
    """Stands in for DockerSandbox: always usable."""

    name = "docker"

    def __init__(
        self, image: str | None = None, *, runtime: str | None = None, **options: object
    ) -> None:
        self.image = image or "default:1"
        self.runtime = runtime

    def close(self) -> None:
        pass


# --- GraderSettings ---------------------------------------------------------------------------


def test_defaults_are_unset() -> None:
    settings = GraderSettings.from_env()
    assert settings == GraderSettings(
        sandbox=None, sandbox_image=None, sandbox_runtime=None, exercises_dir=None
    )


def test_env_beats_default_and_flag_beats_env(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("GRADER_SANDBOX", "process")
    env.setenv("GRADER_SANDBOX_IMAGE", "img:2")
    env.setenv("GRADER_SANDBOX_RUNTIME", "runsc")
    env.setenv("GRADER_EXERCISES_DIR", str(tmp_path))
    from_env = GraderSettings.from_env()
    assert from_env.sandbox is SandboxChoice.PROCESS and from_env.sandbox_image == "img:2"
    assert from_env.sandbox_runtime == "runsc" and from_env.exercises_dir == tmp_path
    flags = GraderSettings.from_env(sandbox="docker", sandbox_image=None, exercises_dir=Path("x"))
    assert flags.sandbox is SandboxChoice.DOCKER and flags.exercises_dir == Path("x")
    assert flags.sandbox_image == "img:2"  # a flag that is None is not given


def test_auto_is_a_valid_setting(env: pytest.MonkeyPatch) -> None:
    env.setenv("GRADER_SANDBOX", "auto")
    assert GraderSettings.from_env().sandbox is SandboxChoice.AUTO


def test_blank_values_are_unset_and_blanks_are_stripped(env: pytest.MonkeyPatch) -> None:
    env.setenv("GRADER_SANDBOX", " docker ")
    env.setenv("GRADER_SANDBOX_IMAGE", "")
    env.setenv("GRADER_SANDBOX_RUNTIME", "   ")
    settings = GraderSettings.from_env()
    assert settings.sandbox is SandboxChoice.DOCKER
    assert settings.sandbox_image is None and settings.sandbox_runtime is None


def test_unrelated_grader_variables_are_ignored(env: pytest.MonkeyPatch) -> None:
    for name in ("GRADER_URL", "GRADER_TOKEN", "GRADER_PORT", "GRADER_MIN_PERCENT"):
        env.setenv(name, "x")
    assert GraderSettings.from_env().sandbox is None


def test_a_bad_value_names_its_variable(env: pytest.MonkeyPatch) -> None:
    env.setenv("GRADER_SANDBOX", "vm")
    with pytest.raises(SettingsInvalid, match="GRADER_SANDBOX: Input should be 'auto'"):
        GraderSettings.from_env()


def test_settings_are_read_once(env: pytest.MonkeyPatch) -> None:
    env.setenv("GRADER_SANDBOX", "process")
    first = grader_settings()
    env.setenv("GRADER_SANDBOX", "docker")
    assert grader_settings() is first and first.sandbox is SandboxChoice.PROCESS
    grader_settings.cache_clear()
    assert grader_settings().sandbox is SandboxChoice.DOCKER


# --- make_runner: the resolved choice, image and runtime go down as arguments ------------------


def _child(choice: SandboxChoice, *args: str | None, **kwargs: str | None) -> tuple[Any, ...]:
    """The backend and image make_runner gives the harness child."""
    child, _warning = make_runner(choice, *args, **kwargs)
    assert isinstance(child, ChildRunner)
    return child.backend, child.image


def _runtime(choice: SandboxChoice, **kwargs: str | None) -> str | None:
    """The runtime make_runner hands the harness child."""
    child, _warning = make_runner(choice, **kwargs)
    assert isinstance(child, ChildRunner)
    return child.runtime


def test_make_runner_auto_ignores_the_environment(env: pytest.MonkeyPatch) -> None:
    """The bug: with GRADER_SANDBOX=auto the sandbox read the variable and refused 'auto'."""
    env.setattr(sandbox.docker_backend, "DockerSandbox", FakeDocker)
    env.setenv("GRADER_SANDBOX", "auto")
    assert _child(SandboxChoice.AUTO, "img:3") == ("docker", "img:3")
    assert _child(SandboxChoice.AUTO) == ("docker", "default:1")  # what the backend resolved


def test_make_runner_hands_the_runtime_to_the_child(env: pytest.MonkeyPatch) -> None:
    env.setattr(sandbox.docker_backend, "DockerSandbox", FakeDocker)
    assert _runtime(SandboxChoice.DOCKER, runtime="runsc") == "runsc"
    assert _runtime(SandboxChoice.PROCESS, runtime="runsc") is None
    assert _child(SandboxChoice.PROCESS, runtime="runsc") == ("process", None)


# --- the command line: the option's default comes from the settings ---------------------------


#: Whether the stand-in make_runner stops the command (validate stops in validate_exercise).
STOP_AT_RUNNER = True


class Chosen(Exception):
    """Raised by the stand-in make_runner once it has seen what it was given."""


@pytest.fixture
def chosen(env: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """What ``grade`` and ``validate`` pass to make_runner (which then stops the command)."""
    calls: list[tuple[Any, ...]] = []

    def fake(choice: SandboxChoice, image: str | None, runtime: str | None, **kw: Any) -> Any:
        calls.append((choice, image, runtime))
        if STOP_AT_RUNNER:
            raise Chosen
        return object(), None

    env.setattr(grader.cli.grading, "make_runner", fake)
    return calls


def _stopped(*args: str) -> bool:
    """Whether the command ran up to make_runner."""
    return isinstance(runner.invoke(app, [*args, *FIX]).exception, Chosen)


def test_grade_sandbox_default_env_flag(env: pytest.MonkeyPatch, chosen: list[Any]) -> None:
    reference = str(FIXTURE_EXERCISES / "adder" / "reference" / "adder.py")
    assert _stopped("grade", "adder", reference)
    env.setenv("GRADER_SANDBOX", "process")
    env.setenv("GRADER_SANDBOX_IMAGE", "img:4")
    env.setenv("GRADER_SANDBOX_RUNTIME", "kata")
    grader_settings.cache_clear()
    assert _stopped("grade", "adder", reference)
    assert _stopped("grade", "adder", reference, "--sandbox", "auto")
    assert chosen == [
        (SandboxChoice.AUTO, None, None),
        (SandboxChoice.PROCESS, "img:4", "kata"),
        (SandboxChoice.AUTO, "img:4", "kata"),
    ]


def test_validate_sandbox_default_is_none_unless_set(
    env: pytest.MonkeyPatch, chosen: list[Any]
) -> None:
    seen: list[bool] = []

    def fake_validate(exercise: Any, make: Any, *, compare_direct: bool, **kwargs: Any) -> Any:
        seen.append(compare_direct)
        raise Chosen

    env.setattr(grader.cli.grading, "validate_exercise", fake_validate)
    env.setattr(sys.modules[__name__], "STOP_AT_RUNNER", False)
    assert _stopped("validate", "adder")
    env.setenv("GRADER_SANDBOX", "process")
    grader_settings.cache_clear()
    assert _stopped("validate", "adder")
    assert _stopped("validate", "adder", "--sandbox", "none")
    assert seen == [False, True, False]
    assert chosen == [
        (SandboxChoice.NONE, None, None),
        (SandboxChoice.PROCESS, None, None),
        (SandboxChoice.NONE, None, None),
    ]


def test_exercises_dir_default_env_flag(env: pytest.MonkeyPatch) -> None:
    def slugs(*args: str) -> list[str]:
        result = runner.invoke(app, ["list", *args])
        assert result.exit_code == 0, result.output
        return [line.split("\t")[0] for line in result.stdout.splitlines()[1:]]

    assert "lru-cache" in slugs()
    env.setenv("GRADER_EXERCISES_DIR", str(FIXTURE_EXERCISES))
    grader_settings.cache_clear()
    assert slugs() == ["adder"]
    assert "echo" in slugs("--exercises", str(FIXTURE_EXERCISES.parent / "api" / "exercises"))


def test_doctor_and_image_build_get_image_and_runtime_from_settings(
    env: pytest.MonkeyPatch,
) -> None:
    checked: list[tuple[str | None, str | None]] = []
    built: list[str | None] = []

    def run_checks(image: str | None, runtime: str | None) -> list[Check]:
        checked.append((image, runtime))
        return [Check("docker daemon", True, "answers")]

    def build_image(offline: bool, tag: str | None, **kwargs: Any) -> str:
        built.append(tag)
        return tag or "default"

    env.setattr(sandbox.doctor, "run_checks", run_checks)
    env.setattr(sandbox.image, "build_image", build_image)
    assert runner.invoke(app, ["doctor"]).exit_code == 0
    assert runner.invoke(app, ["image", "build"]).exit_code == 0
    env.setenv("GRADER_SANDBOX_IMAGE", "img:5")
    env.setenv("GRADER_SANDBOX_RUNTIME", "runsc")
    grader_settings.cache_clear()
    assert runner.invoke(app, ["doctor"]).exit_code == 0
    assert runner.invoke(app, ["doctor", "--image", "i:6", "--runtime", "kata"]).exit_code == 0
    assert runner.invoke(app, ["image", "build"]).exit_code == 0
    assert runner.invoke(app, ["image", "build", "--tag", "i:7"]).exit_code == 0
    assert checked == [(None, None), ("img:5", "runsc"), ("i:6", "kata")]
    assert built == [None, "img:5", "i:7"]


def _grade_in_a_process(sandbox: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point grading the fixture reference, with $GRADER_SANDBOX."""
    reference = FIXTURE_EXERCISES / "adder" / "reference" / "adder.py"
    command = ["grade", "adder", str(reference), *FIX, *args]
    return subprocess.run([sys.executable, "-c", "from grader.cli import main; main()", *command],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "GRADER_SANDBOX": sandbox})


def test_a_bad_setting_is_one_line_and_exit_2() -> None:
    done = _grade_in_a_process("vm")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: invalid setting: GRADER_SANDBOX: Input should be 'auto', 'docker', 'process' "
        "or 'none'"
    ]


def test_grader_sandbox_auto_grades() -> None:
    """``GRADER_SANDBOX=auto`` is valid: the real command grades in a sandbox (Docker when it
    is usable, else the process sandbox) instead of failing with "unknown backend 'auto'"."""
    done = _grade_in_a_process("auto", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert '"mode": "isolated"' in done.stdout and '"score": 100.0' in done.stdout
