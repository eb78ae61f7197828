"""Isolated mode, child side: the submission runs in a sandbox, the tests here see proxies."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.bridge.client import Subject
from grader.bridge.errors import BridgeFailure, ImportFailed
from grader.bridge.proxy import Bridge, BridgeSide, FollowingProxy
from grader.bridge.server_files import server_files
from grader.caps import MESSAGE_LIMIT
from grader.harness.events import (
    ReferenceReleased,
    SandboxFailed,
    SandboxSelected,
    Sink,
    SubjectOutput,
    SubmissionImported,
    SubmissionImportRaised,
    SubmissionStartFailed,
)
from grader.harness.orphans import ON_ORPHANED
from grader.harness.warm_link import WarmLink
from sandbox import SandboxError, SandboxJob, SandboxLimits, select_backend
from sandbox.docker_adopted import AdoptedRun
from sandbox.polling import set_spinning

if TYPE_CHECKING:
    from grader.harness.plugin import HarnessPlugin

_BOOT = (
    "import os, sys; sys.path[:0] = [os.getcwd()]; "
    "from grader.bridge.subject_server import main; main()"
)


def subject_job(module: str, source: bytes, limits: SandboxLimits) -> SandboxJob:
    """The sandbox job that serves ``source`` as module ``module``."""
    files = {**server_files(), f"{module}.py": source}
    return SandboxJob(
        argv=["python3", "-I", "-S", "-B", "-c", _BOOT, module],
        files=files,
        limits=limits,
        caller_reads=True,  # the bridge reads every frame as it comes, and only those
    )


def limits_from(spec: dict[str, Any]) -> SandboxLimits:
    """Sandbox limits for one subject: it must outlive the whole run, but not by much."""
    return SandboxLimits(**spec.get("limits", {}))


class _Session:
    """Gives each test its deadline on the subjects' calls, and forgets its kit objects after."""

    def __init__(
        self,
        side: BridgeSide,
        test_timeout: float,
        deadlines: dict[str, float],
        call_deadlines: dict[str, float],
    ) -> None:
        self.side, self.test_timeout, self.deadlines = side, test_timeout, deadlines
        self.call_deadlines = call_deadlines
        self.current = test_timeout
        self.call: float | None = None
        self.slowest = 0.0

    def begin_test(self, nodeid: str | None = None) -> None:
        if nodeid is not None:
            self.current = self.deadlines.get(nodeid, self.test_timeout)
            self.call = self.call_deadlines.get(nodeid)
            self.slowest = 0.0
        else:  # a subject joins the test in progress: keep what the calls so far took
            self.slowest = max([self.slowest, *(b.subject.slowest_call for b in self.side.bridges)])
        for bridge in self.side.bridges:
            bridge.subject.begin_test(self.current, self.test_timeout, self.call)

    def end_test(self) -> float:
        self.side.end_test()
        for bridge in self.side.bridges:
            self.slowest = max(self.slowest, bridge.subject.slowest_call)
            bridge.subject.end_test()
        return self.slowest


class _Boot:
    """Starts a subject in a background thread, so its sandbox boots while other work goes on.

    A process sandbox dies with the *thread* that forked it (bubblewrap's --die-with-parent),
    so the thread lasts until :meth:`release`, after the subject is closed.
    """

    def __init__(self, subject: Subject, begin: Callable[[], None] | None = None) -> None:
        self.subject = subject
        self._begin = begin or subject.start
        self.failure: BaseException | None = None
        self._started = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run, name="subject-start", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._begin()
        except (ImportFailed, BridgeFailure, SandboxError) as exc:
            self.failure = exc
        finally:
            self._started.set()
        self._release.wait()

    def settle(self) -> None:
        """Wait for the start to finish, however it went."""
        self._started.wait()

    def release(self) -> None:
        """Let the start thread end; call once the subject is closed."""
        self._release.set()
        self._thread.join(timeout=5)


class _Reference:
    """The reference solution in a sandbox of its own (complexity tests compare the
    submission's cost with it, measured the same way). It boots in the background as soon as
    collection shows a test that asks for it."""

    def __init__(
        self,
        spec: dict[str, Any],
        start_job: Callable[[SandboxJob], Any],
        sink: Sink,
        kill: Callable[[str], None] | None = None,
    ) -> None:
        self.spec, self.start_job, self.sink = spec, start_job, sink
        #: The resident reference the parent lent (``grader.harness.resident``), and how to
        #: kill its container; taken over at the boot, given back at the close.
        self.lent: dict[str, Any] | None = spec.get("reference_resident") if kill else None
        self.kill = kill
        self.adopted: AdoptedRun | None = None
        self.bridge: Bridge | None = None
        self.boot: _Boot | None = None

    def prepare(self) -> None:
        """Start booting the reference's sandbox (once): the lent resident if it answers as
        a fresh one, else a sandbox of its own."""
        if self.boot is not None:
            return
        source = (Path(self.spec["reference_dir"]) / f"{self.spec['module']}.py").read_bytes()
        job = subject_job(self.spec["module"], source, limits_from(self.spec))
        subject = Subject(lambda: self.start_job(job), import_timeout=30.0)
        ON_ORPHANED.append(subject.close)
        lent, kill = self.lent, self.kill
        if lent is None or kill is None:
            self.boot = _Boot(subject)
            return
        self.adopted = AdoptedRun(job, str(lent["container"]), int(lent["fd"]), kill)
        adopted = self.adopted

        def adopt_or_start() -> None:
            if not subject.adopt(adopted):
                subject.start()

        self.boot = _Boot(subject, adopt_or_start)

    def module(self, side: BridgeSide, begin: Callable[[], None]) -> Any:
        """The reference module's proxy."""
        if self.bridge is None:
            self.prepare()
            assert self.boot is not None
            self.boot.settle()
            if self.boot.failure is not None:
                raise RuntimeError(f"the reference solution did not start: {self.boot.failure}")
            self.bridge = Bridge(self.boot.subject)
            side.bridges.append(self.bridge)
            begin()  # the test in progress gives it its deadline too
        return FollowingProxy(self.bridge)

    def close(self) -> None:
        if self.boot is not None:
            self.boot.settle()
            subject = self.boot.subject
            if self.adopted is not None:
                # Still the resident (no restart since), and left as a fresh one: lend again.
                clean = subject.run is self.adopted and subject.give_back()
                self.sink(ReferenceReleased(clean=clean))
            subject.close(graceful=True)  # an idle reference ends on EOF at once
            self.boot.release()


class _Start(_Boot):
    """Boots the submission while pytest loads and collects; ``wait`` reports how it went, as
    the events the supervisor reads."""

    def __init__(self, subject: Subject, sink: Sink, name: str) -> None:
        self.sink, self.name = sink, name
        self.ok = False
        super().__init__(subject)

    def wait(self) -> bool:
        """Block until the subject is up, report how it went; ``True`` if the suite can run."""
        self.settle()
        exc = self.failure
        if isinstance(exc, ImportFailed):
            line = exc.info.get("line")
            self.sink(
                SubmissionImportRaised(
                    type=str(exc.info.get("type", "Error")),
                    message=str(exc.info.get("message", ""))[:MESSAGE_LIMIT],
                    line=line if type(line) is int else None,
                )
            )
        elif isinstance(exc, BridgeFailure):
            self.sink(SubmissionStartFailed(status=exc.report_status, message=exc.report_message))
        elif isinstance(exc, SandboxError):
            self.sink(SandboxFailed(str(exc)))
        else:
            self.sink(SubmissionImported(sandbox=self.name))
            self.ok = True
        return self.ok


def run_isolated(
    spec: dict[str, Any], sink: Sink, run_pytest: Callable[[HarnessPlugin], int]
) -> None:
    """Start the subject in the sandbox, then run the suite through the bridge."""
    source = (Path(spec["submission_dir"]) / f"{spec['module']}.py").read_bytes()
    if spec.get("spin") is False:  # more gradings than cores for them: polling costs others
        set_spinning(False)
    warm = WarmLink(sink, handed=spec.get("warm_handed")).take if spec.get("warm") else None
    try:
        backend, _warning = select_backend(
            spec["backend"],
            image=spec.get("image"),
            runtime=spec.get("runtime"),
            warm=warm,
            docker_host=os.environ.get("DOCKER_HOST"),  # where the SDK would look
        )
    except SandboxError as exc:
        sink(SandboxFailed(str(exc)))
        return
    sink(SandboxSelected(backend.name))
    job = subject_job(spec["module"], source, limits_from(spec))
    # Docker runs may be started from any thread; a process sandbox dies with its thread.
    subject = Subject(
        lambda: backend.start(job),
        import_timeout=spec.get("import_timeout", 10.0),
        spares=backend.name == "docker",
    )
    ON_ORPHANED.extend([subject.close, backend.close])
    start = _Start(subject, sink, backend.name)
    api = getattr(backend, "api", None)
    kill = api.kill if backend.name == "docker" and api is not None else None
    reference = _Reference(spec, backend.start, sink, kill)
    if spec.get("reference_at_start"):  # a test will ask for it: boot it alongside
        reference.prepare()
    try:
        from grader.harness.plugin import HarnessPlugin
        from grader.testkit import Kit

        bridge = Bridge(subject)
        side = BridgeSide([bridge])
        session = _Session(
            side, spec["test_timeout"], spec.get("deadlines", {}), spec.get("call_deadlines", {})
        )
        plugin = HarnessPlugin(
            subject=lambda: FollowingProxy(bridge),
            kit=lambda: Kit(side),
            reference=lambda: reference.module(side, session.begin_test),
            prepare_reference=reference.prepare,
            sink=sink,
            session=session,
            ready=start.wait,
        )
        run_pytest(plugin)
    finally:
        start.settle()  # never close the subject while it may still be starting
        # The two sandboxes are torn down side by side: each waits on its own daemon calls.
        closing = threading.Thread(target=reference.close, name="reference-close", daemon=True)
        closing.start()
        subject.close(graceful=True)
        closing.join(timeout=60)
        backend.close()
        start.release()
        sink(SubjectOutput(subject.output))
