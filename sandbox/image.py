"""The runner image: what it is called, whether it is here, how to build it.

The image holds Debian's ``python3`` and nothing of the grader (the grading
harness stays outside). Two recipes, both in ``sandbox/image/``:

* ``Dockerfile``: ``FROM debian:bookworm-slim``; needs a registry.
* ``build-offline.sh``: ``debootstrap --variant=minbase --include=python3``
  from the Debian mirror, pruned, then ``docker import``; needs root,
  ``debootstrap`` and the ``docker`` CLI, but no container registry.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

IMAGE_TAG = "hidden-grader-runner:1"
RECIPE_DIR = Path(__file__).with_name("image")
OFFLINE_SCRIPT = RECIPE_DIR / "build-offline.sh"


def default_image() -> str:
    """The runner image tag when the caller names none: :data:`IMAGE_TAG`."""
    return IMAGE_TAG


def default_runtime() -> str | None:
    """The OCI runtime when the caller names none: ``None``, the daemon's default."""
    return None


def _client(api: Any = None) -> Any:
    """A docker ``APIClient`` (the given one, or from the environment)."""
    if api is not None:
        return api
    import docker

    return docker.from_env(version="auto").api


def image_present(tag: str | None = None, *, api: Any = None) -> bool:
    """True if the runner image exists locally (never pulls).

    Raises :class:`~sandbox.errors.SandboxError` subclasses when the daemon
    cannot be asked.
    """
    import docker.errors

    from sandbox.docker_errors import translate_docker_error

    tag = tag or default_image()
    try:
        _client(api).inspect_image(tag)
    except docker.errors.ImageNotFound:
        return False
    except Exception as exc:
        raise translate_docker_error(exc, image=tag) from exc
    return True


def build_image(
    offline: bool,
    tag: str | None = None,
    *,
    log: Callable[[str], None] = print,
    api: Any = None,
) -> str:
    """Build the runner image and return its tag.

    ``offline=True`` runs ``build-offline.sh`` (debootstrap + ``docker
    import``, about 40 s, needs root); otherwise the Dockerfile is built
    through the daemon, which must reach a registry for the base image.
    Raises :class:`~sandbox.errors.SandboxError` on failure.
    """
    from sandbox.errors import SandboxError

    tag = tag or default_image()
    if offline:
        if os.geteuid() != 0:
            raise SandboxError("the offline build needs root", fix=f"sudo bash {OFFLINE_SCRIPT}")
        proc = subprocess.Popen(
            ["bash", str(OFFLINE_SCRIPT), tag],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log(line.rstrip("\n"))
        if proc.wait() != 0:
            raise SandboxError(
                f"offline image build failed (exit {proc.returncode})",
                fix="read the output above; the script needs debootstrap and a Debian mirror",
            )
        return tag
    from sandbox.docker_errors import translate_docker_error

    try:
        for chunk in _client(api).build(
            path=str(RECIPE_DIR), tag=tag, rm=True, forcerm=True, decode=True
        ):
            if "error" in chunk:
                raise SandboxError(
                    f"image build failed: {chunk['error'].strip()}",
                    fix="grader image build --offline",
                )
            if chunk.get("stream", "").strip():
                log(chunk["stream"].rstrip("\n"))
    except SandboxError:
        raise
    except Exception as exc:
        raise translate_docker_error(exc, image=tag) from exc
    return tag
