"""Docker backend: one hardened, throw-away container per run.

Life of a run: create (all hardening options, see :func:`host_config_options`)
-> attach stdin/stdout/stderr -> start -> stream the job files to the
bootstrap (:mod:`sandbox.bootstrap`) -> READY -> the program talks over the
attach socket -> exit or host-side kill -> inspect (exit code, OOMKilled) ->
remove with ``v=True, force=True``. Nothing is ever ``exec``-ed into a
container, and nothing is read back from its filesystem.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.types import LogConfig, Ulimit

from sandbox.base import SandboxRun, TrackingBackend, close_at_exit
from sandbox.bootstrap import READY, bootstrap_command
from sandbox.cgroup import read_cpu_counter
from sandbox.docker_channel import AttachChannel, raw_socket
from sandbox.docker_errors import translate_docker_error
from sandbox.errors import RuntimeMissing
from sandbox.image import default_image, default_runtime
from sandbox.limits import SandboxLimits
from sandbox.models import SANDBOX_PATH, WORKDIR, SandboxJob, split_status
from sandbox.reaper import container_labels, reap

# nobody:nogroup; exists in Debian images, owns nothing.
SANDBOX_USER = "65534:65534"
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Where Docker puts a container's CPU counter: cgroup v1 (cgroupfs or systemd
# driver), then cgroup v2.
_CGROUP_CPU_FILES = (
    "cpuacct/docker/{id}/cpuacct.usage",
    "cpu,cpuacct/docker/{id}/cpuacct.usage",
    "cpuacct/system.slice/docker-{id}.scope/cpuacct.usage",
    "cpu,cpuacct/system.slice/docker-{id}.scope/cpuacct.usage",
    "system.slice/docker-{id}.scope/cpu.stat",
    "docker/{id}/cpu.stat",
)


def host_config_options(limits: SandboxLimits, user: str = SANDBOX_USER) -> dict[str, Any]:
    """The HostConfig hardening for one container (see docs/security.md)."""
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

    def _launch(self) -> None:
        """Create, attach, start, send the files, wait for READY."""
        backend, job = self._backend, self.job
        try:
            created = self._api.create_container(
                backend.image,
                entrypoint=bootstrap_command(()),
                command=list(job.argv),
                user=backend.user,
                working_dir=WORKDIR,
                hostname="sandbox",
                environment={"PATH": SANDBOX_PATH},
                use_config_proxy=False,  # would copy the host's proxy settings in
                network_disabled=True,
                stdin_open=True,
                detach=False,  # sets AttachStdin/StdinOnce: our half-close is the program's EOF
                tty=False,
                labels=container_labels(job.limits.wall_timeout),
                runtime=backend.runtime,
                host_config=self._api.create_host_config(
                    **host_config_options(job.limits, backend.user)
                ),
            )
            self.container_id = created["Id"]
            sock = self._api.attach_socket(
                self.container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            self._channel = AttachChannel(raw_socket(sock), self._stdout, self._stderr, READY)
            self._channel.start()
            self._api.start(self.container_id)
        except BaseException as exc:
            self._abort()
            if isinstance(exc, Exception):
                raise translate_docker_error(exc, image=backend.image) from exc
            raise
        self._begin()
        self._monitor = threading.Thread(target=self._watch_exit, name="sandbox-exit", daemon=True)
        self._monitor.start()
        self._boot(self._channel.gate)

    def _abort(self) -> None:
        """Clean up a launch that failed before the program started."""
        if self._channel is not None:
            self._channel.close(timeout=0)
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
            self._channel.close()
            self._remove()
            exit_code, sig = split_status(state.get("ExitCode"), shell_convention=True)
            self._finish(
                exit_code=exit_code,
                signal=sig,
                memory_killed=bool(state.get("OOMKilled")),
                cpu_time=self._cpu,
            )
            self._backend._forget(self)

    def _remove(self) -> None:
        """Remove the container and its anonymous volumes (retry once)."""
        for _ in range(2):
            try:
                self._api.remove_container(self.container_id, v=True, force=True)
                return
            except docker.errors.NotFound:
                return
            except Exception:
                continue  # e.g. "removal already in progress"

    def _write_stdin(self, data: bytes, timeout: float | None = None) -> None:
        assert self._channel is not None
        self._channel.send(data, timeout)

    def _shut_stdin(self) -> None:
        if self._channel is not None:
            self._channel.close_write()

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

    def cpu_usage(self) -> float | None:
        """The container's cgroup CPU counter, read from the host; None if not visible here.

        Once the container stopped its cgroup is gone: the last sample is
        returned (taken at most one watchdog tick before the end).
        """
        with self._cpu_lock:
            try:
                path = self._cpu_path()
                if path is not None:
                    self._cpu = read_cpu_counter(path)
            except Exception:
                pass  # the cgroup goes away at exit: keep the last sample
            return self._cpu

    def _cpu_path(self) -> Path | None:
        """The container's CPU counter file (found once, then cached)."""
        if self._cpu_file is None and self.container_id is not None:
            for pattern in _CGROUP_CPU_FILES:
                path = CGROUP_ROOT / pattern.format(id=self.container_id)
                if path.exists():
                    self._cpu_file = path
                    break
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
    ) -> None:
        if user.partition(":")[0] in ("0", "root", ""):
            raise ValueError("the sandbox user must not be root")
        self.image = image or default_image()
        self.runtime = runtime or default_runtime()
        self.user = user
        super().__init__()
        try:
            self.api: Any = api if api is not None else docker.from_env(version="auto").api
            self.api.ping()
            self.api.inspect_image(self.image)
            if self.runtime and self.runtime not in (self.api.info().get("Runtimes") or {}):
                raise RuntimeMissing(f"the Docker daemon has no runtime named {self.runtime!r}")
            if reap_leftovers:
                reap(self.api)
        except Exception as exc:
            raise translate_docker_error(exc, image=self.image) from exc
        close_at_exit(self)

    def start(self, job: SandboxJob) -> DockerRun:
        """Start ``job`` in a new container; returns when the program is starting."""
        run = DockerRun(self, job)
        self._launch_tracked(run)
        return run
