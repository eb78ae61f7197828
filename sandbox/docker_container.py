"""One hardened Docker container, created to wait at the trusted bootstrap (see
:mod:`sandbox.bootstrap`): the options every sandbox container gets, and the call that makes one.

The Engine API body is built here as plain data, so that the harness child, which creates a
container itself when the warm pool has none ready, never imports the Docker SDK for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.bootstrap import bootstrap_command
from sandbox.docker_socket import (
    CHANNEL_LABEL,
    MOUNT_POINT,
    is_mount_refused,
    new_channel_dir,
    remove_channel_dir,
)
from sandbox.limits import SandboxLimits
from sandbox.models import SANDBOX_PATH, WORKDIR
from sandbox.reaper import container_labels

# nobody:nogroup; exists in Debian images, owns nothing.
SANDBOX_USER = "65534:65534"


def host_config_options(limits: SandboxLimits, user: str = SANDBOX_USER) -> dict[str, Any]:
    """The HostConfig hardening for one container (see docs/security.md), as the keyword
    arguments of ``docker.APIClient.create_host_config``; :func:`host_config` makes the Engine
    API's ``HostConfig`` of them. Plain values only: the harness child never imports the SDK."""
    uid, _, gid = user.partition(":")
    tmpfs = f"rw,noexec,nosuid,nodev,size={limits.tmpfs_bytes}"
    return {
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {"/tmp": tmpfs, WORKDIR: f"{tmpfs},uid={uid},gid={gid or uid}"},
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],  # seccomp stays Docker's default profile
        "pids_limit": limits.pids,
        "mem_limit": limits.memory_bytes,
        "memswap_limit": limits.memory_bytes,  # equal: no swap on top
        "nano_cpus": int(limits.cpus * 1e9),
        "ulimits": [
            _ulimit("nofile", limits.open_files, limits.open_files),
            _ulimit("fsize", limits.file_size_bytes, limits.file_size_bytes),
            _ulimit("core", 0, 0),
            _ulimit("cpu", limits.cpu_seconds, limits.cpu_seconds + 1),
        ],
        "ipc_mode": "private",
        "shm_size": limits.tmpfs_bytes,
        "init": True,  # reaps zombies; its exit kills every process left in the container
        "log_config": {"Type": "none", "Config": {}},  # output only through the capped channel
        "privileged": False,
    }


def _ulimit(name: str, soft: int, hard: int) -> dict[str, Any]:
    """One ulimit, as the SDK's ``Ulimit`` spells it."""
    return {"Name": name, "Soft": soft, "Hard": hard}


# create_host_config's keyword -> the Engine API's HostConfig field; a keyword missing here
# fails loudly (KeyError) rather than being sent under a name the daemon would ignore.
_HOST_FIELDS = {
    "network_mode": "NetworkMode",
    "read_only": "ReadonlyRootfs",
    "tmpfs": "Tmpfs",
    "cap_drop": "CapDrop",
    "security_opt": "SecurityOpt",
    "pids_limit": "PidsLimit",
    "mem_limit": "Memory",
    "memswap_limit": "MemorySwap",
    "nano_cpus": "NanoCpus",
    "ulimits": "Ulimits",
    "ipc_mode": "IpcMode",
    "shm_size": "ShmSize",
    "init": "Init",
    "log_config": "LogConfig",
    "privileged": "Privileged",
    "mounts": "Mounts",
}


def host_config(options: dict[str, Any]) -> dict[str, Any]:
    """The Engine API's ``HostConfig`` for :func:`host_config_options` (and ``mounts``),
    field for field what ``create_host_config`` makes of them."""
    # The SDK leaves a false Privileged out (the daemon's default is the same): so do we, for
    # a body identical to the one the SDK sent (tests/unit/test_container_config.py).
    return {_HOST_FIELDS[k]: v for k, v in options.items() if k != "privileged" or v}


def container_config(
    image: str, runtime: str | None, user: str, options: dict[str, Any], labels: dict[str, str]
) -> dict[str, Any]:
    """The body of ``POST /containers/create``: what ``docker.APIClient.create_container``
    sent for the same container (``None`` values, which it leaves out, are not here)."""
    config: dict[str, Any] = {
        "Image": image,
        "Entrypoint": bootstrap_command(),
        "User": user,
        "WorkingDir": WORKDIR,
        "Hostname": "sandbox",
        "Env": [f"PATH={SANDBOX_PATH}"],  # nothing else: no proxy settings of the host's
        "NetworkDisabled": True,
        "Tty": False,
        # Attached stdin, closed with our half-close: that is the program's EOF.
        "OpenStdin": True,
        "StdinOnce": True,
        "AttachStdin": True,
        "AttachStdout": True,
        "AttachStderr": True,
        "Labels": labels,
        "HostConfig": host_config(options),
    }
    if runtime is not None:
        config["Runtime"] = runtime
    return config


def create_container(
    api: Any,
    image: str,
    runtime: str | None,
    user: str,
    limits: SandboxLimits,
    *,
    labels: dict[str, str] | None = None,
    idle_seconds: float = 0.0,
    channel: tuple[str, Path] | None = None,
) -> str:
    """Create one hardened container, waiting to start at the bootstrap; returns its id.

    Nothing of a job is in it: the program and its files arrive on stdin once it runs, so the
    same call makes a container for a run now or a warm one for later (``idle_seconds``: how
    long it may wait first, which pushes back the reaper's deadline). ``channel``, a token and
    a directory from :func:`~sandbox.docker_socket.new_channel_dir`, is mounted read-only for
    a socket channel.
    """
    options = host_config_options(limits, user)
    labels = {**container_labels(limits.wall_timeout + idle_seconds), **(labels or {})}
    if channel is not None:
        token, directory = channel
        mount = {"Target": MOUNT_POINT, "Source": str(directory), "Type": "bind", "ReadOnly": True}
        options["mounts"] = [mount]
        labels[CHANNEL_LABEL] = token
    # Both docker.APIClient and LiteDockerAPI have it: the body is ours, no SDK needed.
    body = container_config(image, runtime, user, options, labels)
    return str(api.create_container_from_config(body)["Id"])


def create_with_channel(
    api: Any,
    image: str,
    runtime: str | None,
    user: str,
    limits: SandboxLimits,
    *,
    labels: dict[str, str] | None = None,
    idle_seconds: float = 0.0,
) -> tuple[str, tuple[str, Path] | None, bool]:
    """:func:`create_container` with a socket channel where one can be had.

    Returns the container's id, its channel (token and directory, or ``None``: it talks over
    the attach stream), and whether channels are still worth trying: ``False`` once the daemon
    refused the mount (it cannot see this machine's files, e.g. it runs elsewhere).
    """
    args = (api, image, runtime, user, limits)
    channel = new_channel_dir()
    if channel is not None:
        try:
            made = create_container(
                *args, labels=labels, idle_seconds=idle_seconds, channel=channel
            )
        except Exception as exc:
            remove_channel_dir(channel[0])
            if not is_mount_refused(exc):
                raise
        else:
            return made, channel, True
    made = create_container(*args, labels=labels, idle_seconds=idle_seconds)
    return made, None, channel is None
