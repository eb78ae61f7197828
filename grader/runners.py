"""Choose how a hidden suite runs: directly (trusted) or isolated in a sandbox."""

from __future__ import annotations

from grader.errors import SandboxUnavailable
from grader.harness.forks import shared_fork_server
from grader.harness.runner import SuiteRunner
from grader.harness.supervisor import ChildRunner
from grader.settings import SandboxChoice
from grader.warm import WarmPoolSettings, shared_pool, shared_residents
from sandbox import SandboxError, select_backend

__all__ = ["SandboxChoice", "make_runner"]


def make_runner(
    choice: SandboxChoice,
    image: str | None = None,
    runtime: str | None = None,
    *,
    warm: WarmPoolSettings | None = None,
    forks: bool | None = None,
) -> tuple[SuiteRunner, str | None]:
    """A runner for ``choice``, and a warning the user must see, if any.

    ``choice`` is already resolved from the settings and flags; ``image`` and ``runtime`` are
    the configured runner image and OCI runtime (``None``: the sandbox's defaults). ``auto``
    picks Docker when the daemon and the runner image are there, else the process sandbox
    with a warning. A forced backend that cannot run raises ``SandboxUnavailable``.

    ``warm``: keep a pool of warm Docker sandboxes for this process's gradings (for callers
    that grade many submissions: ``grader validate``, the service's workers). The backend is
    checked here once; the pool then serves every runner made with the same image and runtime.

    ``forks``: fork the harness children from this process's fork server
    (``grader.harness.forks``, started now in the background): each child then starts
    without its own imports, which pays once a process grades more than once. By default,
    with ``warm``.
    """
    if forks is None:
        forks = warm is not None
    server = shared_fork_server() if forks else None
    if server is not None:
        server.warm_up()
    if choice is SandboxChoice.NONE:
        unsandboxed = "direct mode: the submission runs unsandboxed, next to the tests"
        return ChildRunner(forks=server), unsandboxed
    try:
        backend, warning = select_backend(choice.value, image=image, runtime=runtime)
    except SandboxError as exc:
        raise SandboxUnavailable(str(exc)) from exc
    name = backend.name
    # The image the backend resolved (Docker only), so the harness child uses the same one.
    resolved_image: str | None = getattr(backend, "image", None)
    pool = shared_pool(backend, warm) if warm is not None and warm.size > 0 else None
    backend.close()
    return (
        ChildRunner(
            backend=name,
            image=resolved_image,
            runtime=runtime if name == "docker" else None,
            pool=pool,
            forks=server,
            residents=shared_residents(pool, warm) if pool is not None and warm else None,
        ),
        warning,
    )
