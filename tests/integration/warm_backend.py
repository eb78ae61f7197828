"""A Docker backend that takes its containers from a warm pool and remembers which it took,
and a wait for a condition: the set-up the warm-pool and resident-reference tests share."""

from __future__ import annotations

import time
from collections.abc import Callable

from sandbox import DockerSandbox, SandboxLimits
from sandbox.pool import WarmPool


def claiming_backend(pool: WarmPool, image: str) -> tuple[DockerSandbox, list[str]]:
    """A backend whose runs take warm containers from ``pool``, and the list of the ids it
    took (for ``pool.discard``)."""
    handed: list[str] = []

    def claim(limits: SandboxLimits) -> str | None:
        got = pool.claim(limits)
        if got:
            handed.append(got)
        return got

    return DockerSandbox(image, warm=claim, reap_leftovers=False), handed


def wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)
