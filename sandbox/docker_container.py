"""One hardened Docker container, created to wait at the trusted bootstrap (see
:mod:`sandbox.bootstrap`): the options every sandbox container gets, and the call that makes one.
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
    """The HostConfig hardening for one container (see docs/security.md)."""
    from docker.types import LogConfig, Ulimit  # the SDK only where a container is made

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
            Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
            Ulimit(name="fsize", soft=limits.file_size_bytes, hard=limits.file_size_bytes),
            Ulimit(name="core", soft=0, hard=0),
            Ulimit(name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds + 1),
        ],
        "ipc_mode": "private",
        "shm_size": limits.tmpfs_bytes,
        "init": True,  # reaps zombies; its exit kills every process left in the container
        "log_config": LogConfig(type="none"),  # output only through the capped channel
        "privileged": False,
    }


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
        from docker.types import Mount

        token, directory = channel
        options["mounts"] = [
            Mount(target=MOUNT_POINT, source=str(directory), type="bind", read_only=True)
        ]
        labels[CHANNEL_LABEL] = token
    created = api.create_container(
        image,
        entrypoint=bootstrap_command(),
        user=user,
        working_dir=WORKDIR,
        hostname="sandbox",
        environment={"PATH": SANDBOX_PATH},
        use_config_proxy=False,  # would copy the host's proxy settings in
        network_disabled=True,
        stdin_open=True,
        detach=False,  # sets AttachStdin/StdinOnce: our half-close is the program's EOF
        tty=False,
        labels=labels,
        runtime=runtime,
        host_config=api.create_host_config(**options),
    )
    return str(created["Id"])


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
