"""Docker backend logic against a mocked docker API: options, lifecycle, error translation."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

import docker.errors
import pytest
import requests.exceptions

from sandbox import (
    DaemonUnavailable,
    DockerSandbox,
    ImageMissing,
    PermissionDenied,
    RuntimeMissing,
    SandboxError,
    SandboxJob,
    SandboxLimits,
)
from sandbox.bootstrap import BOOTSTRAP, READY, encode_bundle
from sandbox.docker_backend import host_config_options
from sandbox.docker_container import host_config
from sandbox.docker_errors import translate_docker_error
from sandbox.reaper import DEADLINE_LABEL, LABEL, OWNER_LABEL, is_leftover, owner_id

JOB = SandboxJob(argv=["python3", "main.py"], files={"main.py": b"print(1)"})


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


class FakeAPI:
    """Just enough of docker.APIClient; the "container" is a thread on a socketpair."""

    def __init__(
        self,
        *,
        stdout: bytes = b"out",
        stderr: bytes = b"err",
        exit_code: int = 0,
        oom: bool = False,
        runtimes: tuple[str, ...] = ("runc",),
        leftovers: list[dict[str, Any]] | None = None,
    ) -> None:
        self.stdout, self.stderr, self.exit_code, self.oom = stdout, stderr, exit_code, oom
        self.runtimes = runtimes
        self.leftovers = leftovers or []
        self.removed: list[tuple[str, bool, bool]] = []
        self.killed = 0
        self.exited = threading.Event()
        self.received = b""
        self.created: dict[str, Any] = {}
        self.fail: dict[str, Exception] = {}

    def _maybe_fail(self, name: str) -> None:
        if name in self.fail:
            raise self.fail[name]

    def ping(self) -> bool:
        self._maybe_fail("ping")
        return True

    def inspect_image(self, tag: str) -> dict[str, Any]:
        self._maybe_fail("inspect_image")
        return {"Id": tag}

    def info(self) -> dict[str, Any]:
        return {"Runtimes": {r: {} for r in self.runtimes}}

    def containers(self, all: bool, filters: dict[str, Any]) -> list[dict[str, Any]]:
        return self.leftovers

    def remove_container(self, cid: str, v: bool = False, force: bool = False) -> None:
        self.removed.append((cid, v, force))

    def create_container_from_config(self, config: dict[str, Any]) -> dict[str, str]:
        self._maybe_fail("create_container")
        self.created = config
        return {"Id": "c0ffee"}

    def attach_socket(self, cid: str, params: dict[str, int]) -> socket.socket:
        host, self.daemon = socket.socketpair()
        return host

    def start(self, cid: str) -> None:
        self._maybe_fail("start")
        threading.Thread(target=self._container, daemon=True).start()

    def _container(self) -> None:
        want = len(encode_bundle(JOB.argv, JOB.files))
        while len(self.received) < want:
            self.received += self.daemon.recv(65536)
        self.daemon.sendall(frame(1, READY) + frame(1, self.stdout) + frame(2, self.stderr))
        self.daemon.close()
        self.exited.set()

    def wait(self, cid: str, timeout: float | None = None) -> dict[str, int]:
        self.exited.wait()
        return {"StatusCode": self.exit_code}

    def inspect_container(self, cid: str) -> dict[str, Any]:
        return {"State": {"ExitCode": self.exit_code, "OOMKilled": self.oom}}

    def kill(self, cid: str) -> None:
        self.killed += 1
        self.exited.set()


def test_host_config_has_every_hardening_option() -> None:
    lim = SandboxLimits(memory_bytes=100 * 2**20, pids=10, tmpfs_bytes=2**20, cpus=0.5)
    opts = host_config_options(lim, "65534:65534")
    assert opts["network_mode"] == "none" and opts["read_only"] is True
    assert opts["cap_drop"] == ["ALL"] and opts["security_opt"] == ["no-new-privileges"]
    assert opts["pids_limit"] == 10
    assert opts["mem_limit"] == opts["memswap_limit"] == 100 * 2**20
    assert opts["nano_cpus"] == 500_000_000
    assert opts["ipc_mode"] == "private" and opts["init"] is True
    assert opts["log_config"]["Type"] == "none"
    for target in ("/tmp", "/work"):
        assert {"noexec", "nosuid", "nodev", "size=1048576"} <= set(
            opts["tmpfs"][target].split(",")
        )
    names = {u["Name"]: (u["Soft"], u["Hard"]) for u in opts["ulimits"]}
    assert names["core"] == (0, 0) and names["nofile"] == (64, 64)
    assert "seccomp" not in str(opts)  # Docker's default profile stays on


def test_start_creates_hardened_container_and_cleans_up() -> None:
    api = FakeAPI(stdout=b"hello", stderr=b"warn", exit_code=3)
    backend = DockerSandbox("img:1", api=api)
    result = backend.run(JOB)
    assert (result.exit_code, result.stdout, result.stderr) == (3, b"hello", b"warn")
    assert api.received == encode_bundle(JOB.argv, JOB.files)
    created = api.created
    assert created["Image"] == "img:1"
    assert created["Entrypoint"] == ["python3", "-I", "-S", "-c", BOOTSTRAP]
    assert "Cmd" not in created  # the argv travels in the bundle
    # Only PATH: the host's proxy settings (or anything else of its environment) stay out.
    assert created["Env"] == ["PATH=/usr/local/bin:/usr/bin:/bin"]
    assert created["NetworkDisabled"] is True and created["User"] == "65534:65534"
    assert created["OpenStdin"] is True and created["StdinOnce"] is True
    assert created["Tty"] is False
    assert created["Labels"][LABEL] == "1" and created["Labels"][OWNER_LABEL] == owner_id()
    assert created["HostConfig"] == host_config(host_config_options(JOB.limits))
    assert api.removed == [("c0ffee", True, True)]


def test_oom_killed_state_is_memory_killed() -> None:
    api = FakeAPI(exit_code=137, oom=True)
    result = DockerSandbox("img:1", api=api).run(JOB)
    assert result.memory_killed and result.signal == 9 and result.exit_code is None


def test_runtime_passed_and_checked() -> None:
    api = FakeAPI(runtimes=("runc", "runsc"))
    DockerSandbox("img:1", runtime="runsc", api=api).run(JOB)
    assert api.created["Runtime"] == "runsc"
    with pytest.raises(RuntimeMissing, match="kata"):
        DockerSandbox("img:1", runtime="kata", api=FakeAPI())


def test_root_user_refused() -> None:
    with pytest.raises(ValueError):
        DockerSandbox("img:1", user="0:0", api=FakeAPI())


def test_leftovers_reaped_at_backend_start() -> None:
    dead = {"Id": "old", "Labels": {LABEL: "1", OWNER_LABEL: "h:1", DEADLINE_LABEL: "1"}}
    api = FakeAPI(leftovers=[dead])
    DockerSandbox("img:1", api=api)
    assert api.removed == [("old", True, True)]


def test_leftover_rules() -> None:
    mine = {LABEL: "1", OWNER_LABEL: owner_id(), DEADLINE_LABEL: "9999999999"}
    assert not is_leftover(mine)
    assert is_leftover({**mine, DEADLINE_LABEL: "1"})
    assert is_leftover({**mine, DEADLINE_LABEL: "garbage"})
    other_host = {**mine, OWNER_LABEL: "elsewhere:1"}
    assert not is_leftover(other_host)
    host = owner_id().rpartition(":")[0]
    assert is_leftover({**mine, OWNER_LABEL: f"{host}:4999999"})


@pytest.mark.parametrize(
    ("method", "exc", "expected"),
    [
        ("ping", requests.exceptions.ConnectionError("refused"), DaemonUnavailable),
        (
            "ping",
            docker.errors.DockerException("x", PermissionError(13, "denied")),
            PermissionDenied,
        ),
        ("inspect_image", docker.errors.ImageNotFound("No such image: img:1"), ImageMissing),
    ],
)
def test_backend_errors_translated(method: str, exc: Exception, expected: type[Exception]) -> None:
    api = FakeAPI()
    api.fail[method] = exc
    with pytest.raises(expected) as info:
        DockerSandbox("img:1", api=api)
    assert info.value.__cause__ is exc
    assert isinstance(info.value, SandboxError) and info.value.fix  # each says how to fix it


def test_create_failure_translated_and_nothing_left() -> None:
    api = FakeAPI()
    backend = DockerSandbox("img:1", api=api)
    api.fail["create_container"] = docker.errors.APIError("500", explanation="disk full")
    with pytest.raises(SandboxError, match="disk full"):
        backend.start(JOB)
    api.fail.clear()
    api.fail["start"] = docker.errors.APIError("500", explanation="OCI runtime create failed")
    with pytest.raises(SandboxError, match="OCI runtime"):
        backend.start(JOB)
    assert api.removed == [("c0ffee", True, True)]


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            docker.errors.DockerException(
                "Error while fetching server API version: ('Connection aborted.', "
                "FileNotFoundError(2, 'No such file or directory'))"
            ),
            DaemonUnavailable,
        ),
        (ConnectionRefusedError(111, "refused"), DaemonUnavailable),
        (docker.errors.DockerException("Permission denied on socket"), PermissionDenied),
        (
            docker.errors.APIError("x", explanation="unknown or invalid runtime name: runsc"),
            RuntimeMissing,
        ),
        (docker.errors.NotFound("No such container"), SandboxError),
        (ValueError("weird"), SandboxError),
    ],
)
def test_translate_docker_error(exc: Exception, expected: type[SandboxError]) -> None:
    err = translate_docker_error(exc)
    assert type(err) is expected
    assert "\n" not in str(err)


def test_error_messages_carry_the_fix() -> None:
    assert "grader doctor" in str(DaemonUnavailable("daemon down"))
    assert "grader image build" in str(ImageMissing("no image"))
    assert "usermod -aG docker" in str(PermissionDenied("denied"))
