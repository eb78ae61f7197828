"""Docker backend: one hardened, throw-away container per run.

Life of a run: create (all hardening options, see :func:`host_config_options`)
-> attach stdin/stdout/stderr -> start -> stream the job files to the
bootstrap (:mod:`sandbox.bootstrap`) -> READY -> the program talks over its
socket channel (:mod:`sandbox.docker_socket`) or, where the daemon cannot mount it, the
attach socket -> exit or host-side kill -> inspect (exit code, OOMKilled) ->
remove with ``v=True, force=True``. Nothing is ever ``exec``-ed into a
container, and nothing is read back from its filesystem.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox.base import SandboxRun, TrackingBackend, close_at_exit
from sandbox.bootstrap import READY
from sandbox.cgroup import read_cpu_counter
from sandbox.channel import OutputBuffer, ReadyGate
from sandbox.docker_adopted import CGROUP_ROOT, container_cpu_file
from sandbox.docker_channel import AttachChannel, raw_socket
from sandbox.docker_container import (
    SANDBOX_USER,
    create_container,
    create_with_channel,
    host_config_options,
)
from sandbox.docker_errors import translate_docker_error
from sandbox.docker_socket import (
    DirectSocketChannel,
    ErrorStream,
    Listener,
    SocketChannel,
    remove_channel_dir,
    socket_channel_wanted,
    warm_channel_dir,
)
from sandbox.errors import RuntimeMissing, SandboxError
from sandbox.image import default_image, default_runtime
from sandbox.limits import SandboxLimits
from sandbox.models import SandboxJob, SandboxResult, split_status
from sandbox.reaper import reap

__all__ = ["SANDBOX_USER", "DockerRun", "DockerSandbox", "host_config_options"]


def _sdk_client() -> Any:
    """The Docker SDK's low-level client for the daemon ``DOCKER_HOST`` names."""
    import docker  # about 0.15 s: only for a backend that needs more than LiteDockerAPI

    return docker.from_env(version="auto").api


class DockerRun(SandboxRun):
    """A program running in one container; created by :meth:`DockerSandbox.start`."""

    def __init__(self, backend: DockerSandbox, job: SandboxJob) -> None:
        super().__init__(job)
        self._backend = backend
        self._api = backend.api
        self.container_id: str | None = None
        self._channel: AttachChannel | None = None
        self._monitor: threading.Thread | None = None
        self._cpu: float | None = None
        self._cpu_file: Path | None = None
        self._cpu_lock = threading.Lock()
        self._owned = True
        self._listener: Listener | None = None
        self._socket: SocketChannel | DirectSocketChannel | None = None
        self._errors: ErrorStream | None = None

    def _launch(self) -> None:
        """Create (or take a warm container), attach, start, send the job, wait for READY."""
        backend, job = self._backend, self.job
        try:
            warm = backend.take_warm(job.limits)
            # A warm container is removed by the pool that made it, after this run.
            self._owned = warm is None
            if warm is None:
                self.container_id = self._create()
            else:
                self.container_id = warm
                self._listen(warm_channel_dir(self._api, warm))
            sock = self._api.attach_socket(
                self.container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            # With a socket channel the attach stream carries only stderr and the bootstrap's
            # own failures; the program's stdout comes over the socket.
            stdout = self._stdout if self._listener is None else OutputBuffer(4096)
            self._channel = AttachChannel(raw_socket(sock), stdout, self._stderr, READY)
            self._channel.start()
            if warm is None:
                self._api.start(self.container_id)
        except BaseException as exc:
            self._abort()
            if isinstance(exc, Exception):
                raise translate_docker_error(exc, image=backend.image) from exc
            raise
        self._begin()
        self._monitor = threading.Thread(target=self._watch_exit, name="sandbox-exit", daemon=True)
        self._monitor.start()
        listener, attach = self._listener, self._channel
        if listener is None:
            self._boot(attach.gate)
        else:
            self._boot(lambda deadline: self._accept(listener, attach, deadline))

    def _create(self) -> str:
        """Create a container for this run, with a socket channel if the backend has them."""
        backend = self._backend
        args = (self._api, backend.image, backend.runtime, backend.user, self.job.limits)
        if not backend.socket_channel:
            return create_container(*args)
        container_id, channel, backend.socket_channel = create_with_channel(*args)
        if channel is not None:
            try:
                self._listen(channel[1])
            except OSError:  # no socket: the bootstrap finds none and keeps the attach stream
                remove_channel_dir(channel[0])
        return container_id

    def _listen(self, directory: Path | None) -> None:
        """Listen for the bootstrap in ``directory`` (nothing if there is none)."""
        if directory is not None:
            self._listener = Listener(directory)

    def _accept(
        self, listener: Listener, attach: AttachChannel, deadline: float
    ) -> ReadyGate | None:
        """Take the bootstrap's connection (the files are sent): READY comes over it, and it
        is the program's stdin and stdout from now on. ``None`` if it never connected."""
        pair = listener.accept(deadline, attach.gate.ready)
        if pair is None:
            return None
        conn, errors = pair
        self._errors = ErrorStream(errors, self._stderr)
        attach.close_write()  # the bootstrap read its files from it: nothing more goes there
        if not self.job.caller_reads:
            self._socket = SocketChannel(conn, self._stdout, READY)
            return self._socket.gate
        direct = DirectSocketChannel(conn, self._stdout, READY)
        self._socket = direct
        direct.read_ready(deadline, attach.gate.ready)
        return direct.gate

    def channel_socket(self) -> socket.socket | None:
        """The program's channel socket where the caller reads it (``SandboxJob.caller_reads``
        over a socket channel), for lending it to another process (:mod:`sandbox.docker_adopted`);
        ``None`` otherwise."""
        channel = self._socket
        return channel.socket if isinstance(channel, DirectSocketChannel) else None

    def recv(self, n: int = 65536, timeout: float | None = None) -> bytes:
        """See :meth:`SandboxRun.recv`; a caller that reads (``SandboxJob.caller_reads``)
        reads the socket channel itself."""
        channel = self._socket
        if isinstance(channel, DirectSocketChannel):
            return channel.recv(n, timeout)
        return super().recv(n, timeout)

    def _abort(self) -> None:
        """Clean up a launch that failed before the program started."""
        if self._channel is not None:
            self._channel.close(timeout=0)
        if self._listener is not None:
            self._listener.close()
        if self.container_id is not None:
            # Best effort: the reaper retries later.
            with contextlib.suppress(Exception):
                self._api.remove_container(self.container_id, v=True, force=True)
        self._finish(exit_code=None, signal=None)
        self._backend._forget(self)

    def _watch_exit(self) -> None:
        """Wait for the container to stop, record how, and remove it."""
        assert self.container_id is not None and self._channel is not None
        state: dict[str, Any] = {}
        try:
            for _ in range(3):
                try:
                    self._api.wait(self.container_id, timeout=self.job.limits.wall_timeout + 60)
                    break
                except Exception:
                    self._terminate()  # daemon slow or wait lost: make sure it dies
            state = self._api.inspect_container(self.container_id).get("State", {})
        except Exception:
            pass  # daemon trouble: the status stays unknown
        finally:
            if self._socket is not None:
                self._socket.close()
            if self._errors is not None:
                self._errors.close()
            self._channel.close()
            if self._listener is not None:
                self._listener.close()
            if self._owned:
                self._remove()
            exit_code, sig = split_status(state.get("ExitCode"), shell_convention=True)
            self._finish(
                exit_code=exit_code,
                signal=sig,
                memory_killed=bool(state.get("OOMKilled")),
                cpu_time=self._cpu,
            )
            self._backend._forget(self)

    def end(self, grace: float = 1.0) -> SandboxResult:
        """See :meth:`SandboxRun.end`. A warm container is let go as soon as the program's
        stdout and stderr ended (it closed them, or exited), without waiting the 50-100 ms
        until the daemon reports the container stopped: its pool removes it (with a kill)
        once the grading is over. The result's exit status is then unknown."""
        errors = self._errors
        if self._owned or errors is None or self.done:  # no errors stream: no socket channel
            return super().end(grace)
        self.close_stdin()
        deadline = time.monotonic() + grace
        try:
            while self.recv(65536, timeout=max(deadline - time.monotonic(), 0.0)):
                pass  # what the program still wrote to stdout is not wanted any more
        except SandboxError:
            return self.kill()
        if not errors.ended.wait(max(deadline - time.monotonic(), 0.0)):
            return self.kill()
        self._finish(exit_code=None, signal=None, cpu_time=self._cpu)
        return self._result()

    def _remove(self) -> None:
        """Remove the container and its anonymous volumes (retry once)."""
        for _ in range(2):
            try:
                self._api.remove_container(self.container_id, v=True, force=True)
                return
            except Exception as exc:
                if getattr(exc, "status_code", None) == 404:
                    return  # gone already
                continue  # e.g. "removal already in progress"

    def _write_stdin(self, data: bytes, timeout: float | None = None) -> None:
        channel = self._socket or self._channel
        assert channel is not None
        channel.send(data, timeout)

    def _shut_stdin(self) -> None:
        channel = self._socket or self._channel
        if channel is not None:
            channel.close_write()

    def _terminate(self) -> None:
        if self.container_id is None or self.done:
            return
        with contextlib.suppress(Exception):  # already stopped or gone
            self._api.kill(self.container_id)

    def _force_cleanup(self) -> None:
        self._remove()

    def _sample(self) -> None:
        """Keep the CPU sample fresh on every watchdog tick (the cgroup goes at exit)."""
        self.cpu_usage()

    def cpu_usage(self, settle: float = 0.0) -> float | None:
        """The container's cgroup CPU counter, read from the host; None if not visible here.
        ``settle``: see :meth:`SandboxRun.cpu_usage`.

        Once the container stopped its cgroup is gone: the last sample is
        returned (taken at most one watchdog tick before the end).
        """
        with self._cpu_lock:
            try:
                path = self._cpu_path()
                if path is not None:
                    self._cpu = read_cpu_counter(path, settle)
            except Exception:
                pass  # the cgroup goes away at exit: keep the last sample
            return self._cpu

    def _cpu_path(self) -> Path | None:
        """The container's CPU counter file (found once, then cached)."""
        if self._cpu_file is None and self.container_id is not None:
            self._cpu_file = container_cpu_file(self.container_id, CGROUP_ROOT)
        return self._cpu_file


class DockerSandbox(TrackingBackend):
    """Runs each job in its own hardened container of the runner image.

    Construction checks the daemon, the image and the runtime (raising
    :class:`~sandbox.errors.DaemonUnavailable`, ``PermissionDenied``,
    ``ImageMissing`` or ``RuntimeMissing``) and removes containers left
    behind by crashed earlier runs.

    Args:
        image: Runner image tag (default ``hidden-grader-runner:1``); it is
            never pulled.
        runtime: OCI runtime name such as ``"runsc"`` (default: the daemon's).
        user: ``uid:gid`` the program runs as; must not be root.
        api: A ``docker.APIClient`` to use instead of one from the environment.
        reap_leftovers: Remove containers of crashed earlier runs now (the default).
        warm: Where to take a warm container for a job's limits (its id, or ``None`` to create
            one): a :class:`~sandbox.pool.WarmPool`'s ``claim`` or a link to one in another
            process. Each id it gives must be a started container waiting at the bootstrap,
            never given out before; its maker removes it after the run.
        socket_channel: Talk to the program over a Unix socket (:mod:`sandbox.docker_socket`)
            rather than the attach stream; by default where the daemon is on this machine and
            runs containers with its own runtime.
    """

    name = "docker"
    security_boundary = True

    def __init__(
        self,
        image: str | None = None,
        *,
        runtime: str | None = None,
        user: str = SANDBOX_USER,
        api: Any = None,
        reap_leftovers: bool = True,
        warm: Callable[[SandboxLimits], str | None] | None = None,
        socket_channel: bool | None = None,
    ) -> None:
        if user.partition(":")[0] in ("0", "root", ""):
            raise ValueError("the sandbox user must not be root")
        self.image = image or default_image()
        self.runtime = runtime or default_runtime()
        self.user = user
        self._warm = warm
        super().__init__()
        try:
            self.api: Any = api if api is not None else _sdk_client()
            self.api.ping()
            self.api.inspect_image(self.image)
            if self.runtime and self.runtime not in (self.api.info().get("Runtimes") or {}):
                raise RuntimeMissing(f"the Docker daemon has no runtime named {self.runtime!r}")
            if reap_leftovers:
                reap(self.api)
            self.socket_channel = (
                socket_channel_wanted(self.api, self.runtime)
                if socket_channel is None
                else socket_channel
            )
        except Exception as exc:
            raise translate_docker_error(exc, image=self.image) from exc
        close_at_exit(self)

    def take_warm(self, limits: SandboxLimits) -> str | None:
        """A warm container for ``limits`` if the warm source has one, else ``None``."""
        return self._warm(limits) if self._warm is not None else None

    def start(self, job: SandboxJob) -> DockerRun:
        """Start ``job`` in a new container; returns when the program is starting."""
        run = DockerRun(self, job)
        self._launch_tracked(run)
        return run
