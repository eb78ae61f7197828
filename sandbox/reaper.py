"""Removal of sandbox containers left behind by crashed runs.

Every container carries :data:`LABEL` plus its owner (host and pid) and the
time after which it is certainly overdue. A container is a leftover when its
deadline has passed or its owner process on this host is gone. Containers of
other live graders on the same daemon are left alone, so two graders can
share a daemon. A removed container's socket-channel directory (:mod:`sandbox.docker_socket`)
goes with it, and so does any old one that no live container names.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from sandbox.docker_socket import CHANNEL_LABEL, prune_channel_dirs, remove_channel_dir

LABEL = "grader.sandbox"
OWNER_LABEL = "grader.sandbox.owner"
DEADLINE_LABEL = "grader.sandbox.deadline"
# Slack after the wall limit before a container counts as overdue.
GRACE_SECONDS = 120


def owner_id() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def container_labels(wall_timeout: float) -> dict[str, str]:
    """Labels for a new container of this process."""
    return {
        LABEL: "1",
        OWNER_LABEL: owner_id(),
        DEADLINE_LABEL: str(int(time.time() + wall_timeout + GRACE_SECONDS)),
    }


def _pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_leftover(labels: dict[str, str], now: float | None = None) -> bool:
    """Whether a labelled container is abandoned (overdue or owner dead)."""
    now = time.time() if now is None else now
    try:
        if now > int(labels.get(DEADLINE_LABEL, "0")):
            return True
    except ValueError:
        return True
    host, _, pid = labels.get(OWNER_LABEL, "").rpartition(":")
    if host != socket.gethostname():
        return False  # another host's grader: only its deadline can tell
    if not pid.isdigit():
        return True
    return int(pid) != os.getpid() and not _pid_alive(int(pid))


def reap(api: Any, *, everything: bool = False) -> list[str]:
    """Force-remove leftover sandbox containers; return their ids.

    ``api`` is a ``docker.APIClient``. With ``everything=True`` every labelled
    container is removed (for operators and tests). Errors on single
    containers are ignored: another reaper may have been faster.
    """
    removed = []
    live_channels: set[str] = set()
    for info in api.containers(all=True, filters={"label": f"{LABEL}=1"}):
        labels = info.get("Labels") or {}
        if everything or is_leftover(labels):
            try:
                api.remove_container(info["Id"], v=True, force=True)
            except Exception:
                continue  # gone already, or another reaper is removing it
            removed.append(info["Id"])
            remove_channel_dir(labels.get(CHANNEL_LABEL, ""))
        else:
            live_channels.add(labels.get(CHANNEL_LABEL, ""))
    prune_channel_dirs(live_channels)
    return removed
