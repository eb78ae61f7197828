"""The body of ``POST /containers/create``, built without the Docker SDK: byte for byte what the
SDK sent for the same container, sent by the harness child's own client, which never imports the
SDK for it; and a refused create, seen through that client as through the SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import requests
from docker.types import LogConfig, Mount, Ulimit

from sandbox import docker_socket
from sandbox.bootstrap import bootstrap_command
from sandbox.docker_container import create_container, create_with_channel
from sandbox.docker_errors import translate_docker_error
from sandbox.docker_lite import EngineAPIError, LiteDockerAPI
from sandbox.docker_socket import CHANNEL_LABEL, MOUNT_POINT, is_mount_refused
from sandbox.limits import MiB, SandboxLimits
from sandbox.models import SANDBOX_PATH, WORKDIR
from sandbox.reaper import container_labels
from tests.unit import test_docker_lite as lite

# The fake daemon on a Unix socket, and what it got with each request.
daemon, payloads = lite.daemon, lite.payloads
Daemon = tuple[str, list[str], dict[str, lite.Answer]]
Payloads = list[tuple[dict[str, str], bytes]]

TOKEN = "0123456789abcdef" * 2
CREATED = lite._http("201 Created", {"Id": "abc", "Warnings": []})


def _old_host_config_options(limits: SandboxLimits, user: str) -> dict[str, Any]:
    """The hardening as it was given to the SDK before the body was ours: a fixed copy, so that
    a changed option fails the comparison instead of changing both sides."""
    uid, _, gid = user.partition(":")
    tmpfs = f"rw,noexec,nosuid,nodev,size={limits.tmpfs_bytes}"
    return {
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {"/tmp": tmpfs, WORKDIR: f"{tmpfs},uid={uid},gid={gid or uid}"},
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": limits.pids,
        "mem_limit": limits.memory_bytes,
        "memswap_limit": limits.memory_bytes,
        "nano_cpus": int(limits.cpus * 1e9),
        "ulimits": [
            Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
            Ulimit(name="fsize", soft=limits.file_size_bytes, hard=limits.file_size_bytes),
            Ulimit(name="core", soft=0, hard=0),
            Ulimit(name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds + 1),
        ],
        "ipc_mode": "private",
        "shm_size": limits.tmpfs_bytes,
        "init": True,
        "log_config": LogConfig(type="none"),
        "privileged": False,
    }


def _recording_sdk() -> tuple[docker.APIClient, list[tuple[str, dict[str, Any]]]]:
    """A real ``docker.APIClient`` whose requests are recorded (URL and keywords), not sent."""
    api = docker.APIClient(base_url="unix:///nonexistent", version="1.41")
    sent: list[tuple[str, dict[str, Any]]] = []
    api._post = lambda url, **kwargs: sent.append((url, kwargs))
    api._result = lambda response, json=False: {"Id": "abc"}
    return api, sent


def _old_body(
    limits: SandboxLimits, runtime: str | None, user: str, labels: dict[str, str], mount: bool
) -> tuple[str, dict[str, Any]]:
    """The URL and JSON body the SDK sent for the old ``create_container`` call."""
    api, sent = _recording_sdk()
    options = _old_host_config_options(limits, user)
    if mount:
        source = str(Path("/tmp/channels") / TOKEN)
        options["mounts"] = [Mount(target=MOUNT_POINT, source=source, type="bind", read_only=True)]
    api.create_container(
        "img:1",
        entrypoint=bootstrap_command(),
        user=user,
        working_dir=WORKDIR,
        hostname="sandbox",
        environment={"PATH": SANDBOX_PATH},
        use_config_proxy=False,
        network_disabled=True,
        stdin_open=True,
        detach=False,
        tty=False,
        labels=labels,
        runtime=runtime,
        host_config=api.create_host_config(**options),
    )
    ((url, kwargs),) = sent
    return url, json.loads(kwargs["data"])


SHAPES = [
    SandboxLimits(),
    SandboxLimits(memory_bytes=100 * MiB, pids=10, tmpfs_bytes=MiB, cpus=0.5, cpu_seconds=5),
    SandboxLimits(open_files=16, file_size_bytes=1, cpus=2.25, wall_timeout=3.5),
]


@pytest.mark.parametrize("limits", SHAPES)
@pytest.mark.parametrize("runtime", [None, "runsc"])
@pytest.mark.parametrize("mount", [False, True])
@pytest.mark.parametrize("user", ["65534:65534", "1000"])
def test_the_body_is_the_one_the_sdk_sent(
    limits: SandboxLimits,
    runtime: str | None,
    mount: bool,
    user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the SDK's client (the pool's), our body goes out exactly as the SDK's own did."""
    monkeypatch.setattr("sandbox.reaper.time.time", lambda: 1_700_000_000.0)
    labels = {**container_labels(limits.wall_timeout + 60), "extra": "é"}
    channel = (TOKEN, Path("/tmp/channels") / TOKEN) if mount else None
    api, sent = _recording_sdk()
    made = create_container(
        api,
        "img:1",
        runtime,
        user,
        limits,
        labels={"extra": "é"},
        idle_seconds=60,
        channel=channel,
    )
    if mount:
        labels[CHANNEL_LABEL] = TOKEN
    ((url, kwargs),) = sent
    old_url, old_body = _old_body(limits, runtime, user, labels, mount)
    assert made == "abc" and url == old_url
    assert json.loads(kwargs["data"]) == old_body
    assert kwargs["params"] == {"name": None}


def test_creating_through_the_lite_client_imports_no_sdk(daemon: Daemon) -> None:
    """A warm pool's miss in the harness child: the container is made without the SDK."""
    path, seen, answers = daemon
    answers["POST /containers/create"] = lambda _: CREATED
    # The SDK's way would make the container too: only what it imported tells them apart.
    answers["GET /version"] = lambda _: lite._http("200 OK", {"ApiVersion": "1.41"})
    answers["POST /v1.41/containers/create"] = lambda _: CREATED
    code = (
        "import sys; from pathlib import Path\n"
        "from sandbox.docker_container import create_container\n"
        "from sandbox.docker_lite import LiteDockerAPI\n"
        "from sandbox.limits import SandboxLimits\n"
        f"made = create_container(LiteDockerAPI({path!r}, timeout=5), 'img:1', None,"
        f" '65534:65534', SandboxLimits(), channel=({TOKEN!r}, Path('/tmp/c')))\n"
        "sdk = sorted(m for m in sys.modules if m.split('.')[0] in {'docker', 'requests'})\n"
        "print(made, sdk)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "abc []"
    assert seen == ["POST /containers/create HTTP/1.1"]


def test_the_lite_client_sends_the_sdks_body(
    daemon: Daemon, payloads: Payloads, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, seen, answers = daemon
    answers["POST /containers/create"] = lambda _: CREATED
    monkeypatch.setattr("sandbox.reaper.time.time", lambda: 1_700_000_000.0)
    limits = SandboxLimits(cpus=0.5)
    api = LiteDockerAPI(path, timeout=5)
    assert create_container(api, "img:1", "runsc", "65534:65534", limits) == "abc"
    headers, body = payloads[-1]
    labels = container_labels(limits.wall_timeout)
    assert json.loads(body) == _old_body(limits, "runsc", "65534:65534", labels, False)[1]
    assert headers["content-type"] == "application/json"
    assert headers["content-length"] == str(len(body))
    created = api.create_container_from_config(
        {"Image": "i", "Cmd": None, "Labels": {"l": "ü"}}, "n"
    )
    assert created == {"Id": "abc", "Warnings": []}
    assert seen[-1] == "POST /containers/create?name=n HTTP/1.1"
    assert json.loads(payloads[-1][1]) == {"Image": "i", "Labels": {"l": "ü"}}  # None left out


def _sdk_error(status: int, message: str) -> docker.errors.APIError:
    """The exception the SDK raises for this answer of the daemon's."""
    response = requests.Response()
    response.status_code, response._content = status, json.dumps({"message": message}).encode()
    response.url = "http+docker://localhost/v1.41/containers/create"
    try:
        docker.errors.create_api_error_from_http_exception(requests.HTTPError(response=response))
    except docker.errors.APIError as exc:
        return exc
    raise AssertionError("no exception")


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (404, "No such image: img:1"),
        (400, "Unknown runtime specified runsc"),
        (500, "no space left on device"),
    ],
)
def test_a_refused_create_is_translated_as_the_sdks_error_is(
    daemon: Daemon, status: int, message: str
) -> None:
    path, _, answers = daemon
    answers["POST /containers/create"] = lambda _: lite._http(f"{status} X", {"message": message})
    with pytest.raises(EngineAPIError) as caught:
        create_container(LiteDockerAPI(path, timeout=5), "img:1", None, "1:1", SandboxLimits())
    ours = translate_docker_error(caught.value, image="img:1")
    theirs = translate_docker_error(_sdk_error(status, message), image="img:1")
    assert type(ours) is type(theirs) and str(ours) == str(theirs)


def test_a_refused_mount_falls_back_to_the_attach_stream(
    daemon: Daemon, payloads: Payloads, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon that cannot see the channel directory refuses the mount; the lite client's
    error is recognised, and the container is made without it."""
    base = tmp_path / "channels"
    monkeypatch.setattr(docker_socket, "channel_base", lambda: base)
    path, _, answers = daemon
    refused = lite._http(
        "400 Bad Request",
        {"message": 'invalid mount config for type "bind": bind source path does not exist'},
    )
    answers["POST /containers/create"] = lambda _: (
        refused if "Mounts" in json.loads(payloads[-1][1])["HostConfig"] else CREATED
    )
    api = LiteDockerAPI(path, timeout=5)
    made = create_with_channel(api, "img:1", None, "65534:65534", SandboxLimits())
    assert made == ("abc", None, False)
    assert list(base.iterdir()) == []
    assert is_mount_refused(EngineAPIError(400, "invalid mount config for type bind"))
