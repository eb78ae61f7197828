"""Isolated mode, child side: the submission runs in a sandbox, the tests here see proxies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.bridge.client import Subject
from grader.bridge.errors import BridgeFailure, ImportFailed
from grader.bridge.proxy import Bridge, FollowingProxy
from grader.harness.plugin import HarnessPlugin
from grader.harness.runner import ON_ORPHANED
from sandbox import SandboxError, SandboxJob, SandboxLimits, select_backend

_GRADER_ROOT = Path(__file__).resolve().parents[1]
#: The stdlib-only files the subject server needs inside the sandbox.
_SERVER_FILES = (
    "__init__.py",
    "bridge/__init__.py",
    "bridge/wire.py",
    "bridge/subject_server.py",
    "testkit/__init__.py",
    "testkit/kit.py",
    "testkit/local.py",
)
_BOOT = (
    "import os, sys; sys.path[:0] = [os.getcwd()]; "
    "from grader.bridge.subject_server import main; main()"
)


def subject_job(module: str, source: bytes, limits: SandboxLimits) -> SandboxJob:
    """The sandbox job that serves ``source`` as module ``module``."""
    files = {f"grader/{name}": (_GRADER_ROOT / name).read_bytes() for name in _SERVER_FILES}
    files["grader/__init__.py"] = b""
    files[f"{module}.py"] = source
    return SandboxJob(
        argv=["python3", "-I", "-S", "-B", "-c", _BOOT, module], files=files, limits=limits
    )


def limits_from(spec: dict[str, Any]) -> SandboxLimits:
    """Sandbox limits for one subject: it must outlive the whole run, but not by much."""
    return SandboxLimits(**spec.get("limits", {}))


class _Session:
    """Gives each test its deadline on the subject's calls."""

    def __init__(self, subject: Subject, test_timeout: float) -> None:
        self.subject, self.test_timeout = subject, test_timeout

    def begin_test(self) -> None:
        self.subject.begin_test(self.test_timeout)

    def end_test(self) -> None:
        self.subject.end_test()


def run_isolated(
    spec: dict[str, Any],
    sink: Callable[[dict[str, Any]], None],
    run_pytest: Callable[[HarnessPlugin], int],
) -> None:
    """Start the subject in the sandbox, then run the suite through the bridge."""
    source = (Path(spec["submission_dir"]) / f"{spec['module']}.py").read_bytes()
    try:
        backend, _warning = select_backend(spec["backend"], image=spec.get("image"))
    except SandboxError as exc:
        sink({"event": "sandbox_error", "message": str(exc)})
        return
    sink({"event": "sandbox", "name": backend.name})
    job = subject_job(spec["module"], source, limits_from(spec))
    subject = Subject(lambda: backend.start(job), import_timeout=spec.get("import_timeout", 10.0))
    ON_ORPHANED.extend([subject.close, backend.close])
    try:
        try:
            subject.start()
        except ImportFailed as exc:
            sink(
                {
                    "event": "import_error",
                    "type": str(exc.info.get("type", "Error")),
                    "message": str(exc.info.get("message", ""))[:300],
                    "line": exc.info.get("line") if type(exc.info.get("line")) is int else None,
                }
            )
            return
        except BridgeFailure as exc:
            sink(
                {
                    "event": "import_failure",
                    "status": exc.report_status,
                    "message": exc.report_message,
                }
            )
            return
        except SandboxError as exc:
            sink({"event": "sandbox_error", "message": str(exc)})
            return
        sink({"event": "imported", "sandbox": backend.name})
        bridge = Bridge(subject)
        plugin = HarnessPlugin(
            subject=lambda: FollowingProxy(bridge, "module"),
            kit=lambda: FollowingProxy(bridge, "kit"),
            sink=sink,
            session=_Session(subject, spec["test_timeout"]),
        )
        code = run_pytest(plugin)
        sink(
            {
                "event": "finished",
                "exit_code": code,
                "restarts": subject.restarts,
                "requests": subject.requests,
            }
        )
    finally:
        subject.close(graceful=True)
        backend.close()
        sink({"event": "output", "text": subject.output})
