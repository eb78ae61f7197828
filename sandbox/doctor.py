"""Health checks of the sandbox setup, each with the exact command that fixes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.errors import DaemonUnavailable, PermissionDenied, RuntimeMissing, SandboxError
from sandbox.image import default_image, default_runtime


@dataclass(frozen=True)
class Check:
    """One check's outcome.

    Attributes:
        name: Short title, e.g. ``"docker daemon"``.
        ok: Whether it passed.
        detail: One line on what was found.
        fix: The command that fixes it (``None`` when ``ok``).
        required: Whether a failure makes ``grader doctor`` fail.
    """

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    required: bool = True


def _docker_checks(image: str, runtime: str | None) -> list[Check]:
    """Daemon reachable, permission, image present, runtime present."""
    import docker

    from sandbox.docker_errors import translate_docker_error

    checks: list[Check] = []
    api: Any = None
    try:
        api = docker.from_env(version="auto").api
        api.ping()
    except Exception as exc:
        err = translate_docker_error(exc)
        daemon_ok = not isinstance(err, DaemonUnavailable)
        checks.append(
            Check(
                "docker daemon",
                daemon_ok,
                "answers" if daemon_ok else str(err.args[0]),
                None if daemon_ok else DaemonUnavailable.fix,
            )
        )
        perm_ok = not isinstance(err, PermissionDenied)
        checks.append(
            Check(
                "docker permission",
                perm_ok,
                "ok" if perm_ok else str(err.args[0]),
                None if perm_ok else PermissionDenied.fix,
            )
        )
        if daemon_ok and perm_ok:
            checks.append(Check("docker api", False, str(err), err.fix or DaemonUnavailable.fix))
        checks.append(
            Check(
                "runner image",
                False,
                "unknown: no daemon",
                f"grader image build --offline --tag {image}",
            )
        )
        return checks
    version = api.version().get("Version", "?")
    checks.append(Check("docker daemon", True, f"answers (server {version})"))
    checks.append(Check("docker permission", True, "this user may use the socket"))
    try:
        from sandbox.image import image_present

        present = image_present(image, api=api)
        checks.append(
            Check(
                "runner image",
                present,
                f"{image} {'present' if present else 'missing'}",
                None if present else f"grader image build --offline --tag {image}",
            )
        )
    except SandboxError as exc:
        checks.append(Check("runner image", False, str(exc), exc.fix))
    checks.append(Check("warm pool", True, describe_pools(api), required=False))
    runtimes = sorted((api.info().get("Runtimes") or {}).keys())
    if runtime:
        ok = runtime in runtimes
        checks.append(
            Check(
                "container runtime",
                ok,
                f"{runtime} {'registered' if ok else 'not registered'}"
                f" (daemon has: {', '.join(runtimes)})",
                None if ok else RuntimeMissing.fix,
            )
        )
    else:
        checks.append(
            Check(
                "container runtime",
                True,
                "daemon default (set GRADER_SANDBOX_RUNTIME to use e.g. runsc)",
                required=False,
            )
        )
    return checks


def run_checks(image: str | None = None, runtime: str | None = None) -> list[Check]:
    """Run every check for ``image`` and ``runtime`` (``None``: the sandbox's defaults, as
    :class:`~sandbox.docker_backend.DockerSandbox` uses them); never raises for an
    environment problem.

    Docker checks are required; the bubblewrap check is required only when
    Docker is not usable (it is the fallback's isolation).
    """
    image = image or default_image()
    runtime = runtime or default_runtime()
    checks = _docker_checks(image, runtime)
    docker_ok = all(c.ok for c in checks if c.required)
    from sandbox.process_backend import find_bwrap

    bwrap = find_bwrap()
    checks.append(
        Check(
            "bubblewrap",
            bwrap is not None,
            f"{bwrap} works" if bwrap else "bwrap missing or user namespaces disabled",
            None if bwrap else "sudo apt-get install -y bubblewrap",
            required=not docker_ok,
        )
    )
    return checks


def describe_pools(api: Any) -> str:
    """One line on the warm containers on this daemon: how many, of how many pools, whose."""
    from sandbox.pool import POOL_LABEL  # the pool's module needs the Docker SDK
    from sandbox.reaper import OWNER_LABEL

    found = api.containers(all=True, filters={"label": POOL_LABEL})
    if not found:
        return "no warm containers on this daemon"
    pools: dict[str, list[dict[str, Any]]] = {}
    for item in found:
        pools.setdefault(item["Labels"].get(POOL_LABEL, "?"), []).append(item)
    parts = []
    for pool_id, items in sorted(pools.items()):
        running = sum(item.get("State") == "running" for item in items)
        owner = items[0]["Labels"].get(OWNER_LABEL, "?")
        parts.append(f"pool {pool_id} of {owner}: {running} running, {len(items) - running} other")
    return f"{len(found)} warm containers: " + "; ".join(parts)
