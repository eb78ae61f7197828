"""The harness's end of the bridge: one sandboxed subject, its channel, its restarts.

Every call waits at most until the current test's deadline; past it the subject is killed and
the test fails as a timeout. A subject that dies or misbehaves is replaced, lazily, by a fresh
one (a new *generation*) for the tests that follow. While it waits for an answer, the harness
serves the submission's reverse calls to kit objects (see :mod:`grader.bridge.protocol`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn

from grader.bridge import protocol, wire
from grader.bridge.errors import ImportFailed, ProtocolViolation, SubjectDied, SubjectTimeout
from grader.bridge.spare import SpareRun
from grader.bridge.subject_server import RESET
from grader.budget import CallBudget, TestBudget, cpu_limit
from grader.caps import OUTPUT_CAP
from sandbox import SandboxError, SandboxResult, SandboxRun, SandboxTimeout
from sandbox.models import end_in_words
from sandbox.polling import spinning

#: The most requests one run may make, a bound on a runaway test.
MAX_REQUESTS = 2_000_000
#: How long a resident reference may take to answer its reset.
RESET_SECONDS = 5.0


class Subject:
    """A submission running under the subject server in a sandbox, restarted on demand."""

    def __init__(
        self, start_run: Callable[[], SandboxRun], import_timeout: float, spares: bool = False
    ) -> None:
        self._start_run = start_run
        #: Keep a spare sandbox starting after a first restart (backends whose runs may be
        #: started from any thread; see :mod:`grader.bridge.spare`).
        self.spares = spares
        self._spare: SpareRun | None = None
        self.import_timeout = import_timeout
        self.generation = 0
        self.run: SandboxRun | None = None
        self.module_ref: dict[str, Any] = {}
        #: Serves one reverse call (set by the bridge); may answer later, through ``send``.
        self.on_reverse: Callable[[dict[str, Any]], None] | None = None
        #: Adds what every outgoing frame carries (the bridge's clock times).
        self.outgoing: Callable[[dict[str, Any]], dict[str, Any]] = lambda message: message
        #: The test in progress's time budget (``None`` between tests).
        self.budget: TestBudget | None = None
        self.test_timeout = 0.0
        #: Each call's own limit in the test in progress (``None``: only the test's).
        self.call_limit: float | None = None
        self._call: CallBudget | None = None
        #: The longest call of the test in progress so far, in seconds (for the profile).
        self.slowest_call = 0.0
        self.output = ""
        self.restarts = 0
        self._buffer = bytearray()
        self._next_id = 1
        self.requests = 0
        self.last_end: SandboxResult | None = None
        self._closers: list[threading.Thread] = []
        self._output_lock = threading.Lock()
        #: Whether the subject's side was last told not to poll (a quiet request or a hush).
        self._hushed = False

    # -- life cycle ------------------------------------------------------------

    def start(self) -> None:
        """Start a fresh subject and wait for its import; ``ImportFailed`` or ``SubjectTimeout``."""
        self.close()
        self.generation += 1
        self._buffer.clear()
        self._hushed = False
        spare, self._spare = self._spare, None
        self.run = (spare.take() if spare else None) or self._start_run()
        if self.spares and self.restarts:
            self._spare = SpareRun(self._start_run)
        deadline = time.monotonic() + self.import_timeout
        try:
            hello = self._read_message(deadline, "import")
            assert hello is not None
        except SubjectTimeout:
            raise SubjectTimeout(
                f"importing the submission took longer than {self.import_timeout:g} s"
            ) from None
        if "import_error" in hello:
            info = hello["import_error"]
            self.close()
            raise ImportFailed(info if type(info) is dict else {"message": "import failed"})
        if hello.get("ready") is not True:
            self.close()
            raise ProtocolViolation(
                "the submission interfered with the grader's channel while importing"
            )
        self.module_ref = hello["module"]

    def adopt(self, run: SandboxRun) -> bool:
        """Take over a subject that is already serving (a resident reference, lent by the
        grader's process): reset it to its state after the import and use it from now on.
        ``False``, with the run killed, if it does not answer as a fresh subject would (the
        caller starts one the usual way)."""
        self.close()
        self.generation += 1
        self._buffer.clear()
        self.run = run
        state = self._reset()
        if state is None:
            self.close(wait=False)
            return False
        self.module_ref = state["module"]
        return True

    def give_back(self) -> bool:
        """Done with an adopted subject: reset it and let go of it without ending it; ``True``
        if it answered as an idle, fresh subject does (one thread, its module), so that it may
        serve another grading."""
        clean = self.run is not None and self._reset() is not None
        if self.run is not None:
            self.close(graceful=clean)  # a clean one is let go (its end detaches), others killed
        return clean

    def _reset(self) -> dict[str, Any] | None:
        """Send the reset request outside any test; its answer, if it is one of a fresh
        subject, else ``None``."""
        budget, self.budget, self._call = self.budget, None, None
        self._hushed = False  # the reset is an ordinary request: the subject polls after it
        try:
            self.send({"id": 0, "op": RESET})
            answer = self._read_message(time.monotonic() + RESET_SECONDS, "reset")
        except (SubjectDied, SubjectTimeout, ProtocolViolation):
            return None
        finally:
            self.budget = budget
        state = answer.get("ok") if answer is not None and answer.get("id") == 0 else None
        if type(state) is dict and type(state.get("module")) is dict and state.get("threads") == 1:
            return state
        return None

    def ensure_running(self) -> None:
        """Restart the subject if the last one ended."""
        if self.run is None:
            self.restarts += 1
            try:
                self.start()
            except ImportFailed as exc:
                raise SubjectDied(f"restarting the submission failed: {exc}") from None
            if self.budget is not None:  # a restart is the grader's time, not the test's
                self.budget.restart()

    def close(self, graceful: bool = False, wait: bool = True) -> None:
        """End the current subject (if any) and keep what it printed.

        ``graceful`` first closes its stdin and gives it a moment to exit by itself. Without
        ``wait`` (a hung subject, replaced at once) it is killed on a thread of its own; a
        later waiting ``close`` waits for those too, so the output is complete after it.
        """
        run, self.run = self.run, None
        if run is not None and not wait:
            closer = threading.Thread(target=self._end, args=(run, False), daemon=True)
            closer.start()
            self._closers.append(closer)
            return
        if run is not None:
            self._end(run, graceful)
        if graceful:
            spare, self._spare = self._spare, None
            if spare is not None:
                spare.discard()
            for closer in self._closers:
                closer.join(timeout=60)
            self._closers.clear()

    def _end(self, run: SandboxRun, graceful: bool) -> None:
        """Stop ``run`` and append its stderr to the output."""
        try:
            result = run.end(grace=1.0) if graceful else run.kill()
        except SandboxError:
            return
        text = (result.stderr or b"").decode("utf-8", "replace")
        with self._output_lock:
            self.output = (self.output + text)[-OUTPUT_CAP:]
            self.last_end = result

    # -- per test ------------------------------------------------------------------

    def begin_test(
        self, timeout: float, ceiling: float | None = None, call_limit: float | None = None
    ) -> None:
        """Set the budget the calls of the coming test share: ``timeout`` seconds, judged
        as :class:`~grader.budget.TestBudget` does (CPU of this process and of the subject,
        stall time of the machine), and never more than ``ceiling`` seconds of wall time.
        With ``call_limit`` each call also has that many seconds of its own, judged alike."""
        self.test_timeout = timeout
        self.budget = TestBudget(
            timeout,
            max(timeout, ceiling or timeout),
            cpu=self._test_cpu,
            cpu_limit=cpu_limit(timeout),
        )
        self.call_limit = call_limit if call_limit is not None and call_limit < timeout else None
        self.slowest_call = 0.0

    def end_test(self) -> None:
        """Clear the budget."""
        self.budget = self._call = None

    def _budget_now(self) -> TestBudget | CallBudget | None:
        """The budget a wait counts against: the call's inside the test's, or the test's."""
        return self._call or self.budget

    def _test_cpu(self) -> float | None:
        """CPU seconds of the harness (this process) and the current subject's sandbox."""
        subject = self.cpu_usage()
        return time.process_time() + (subject or 0.0)

    # -- requests ------------------------------------------------------------------

    def request(self, op: str, *, quiet: bool = False, **fields: Any) -> dict[str, Any]:
        """Send one request and return its response message, serving reverse calls meanwhile.

        A ``quiet`` request asks the subject's side not to poll while it waits, from this
        request until the next (:mod:`grader.bridge.server_channel`): for a request whose CPU
        time is measured, after :meth:`quiesce`."""
        self.ensure_running()
        assert self.run is not None
        self.requests += 1
        if self.requests > MAX_REQUESTS:
            raise ProtocolViolation("too many requests in one run")
        request_id = self._next_id
        self._next_id += 1
        outermost = self._call is None and self.budget is not None
        if outermost and self.budget is not None and self.call_limit is not None:
            self._call = CallBudget(self.budget, self.call_limit, cpu=self._test_cpu)
        started = time.monotonic()
        quiet = quiet or not spinning()  # a harness that does not poll asks the same of it
        self._hushed = quiet
        try:
            return self._exchange(request_id, op, {**fields, "quiet": True} if quiet else fields)
        finally:
            if outermost:
                self._call = None
                self.slowest_call = max(self.slowest_call, time.monotonic() - started)

    def _exchange(self, request_id: int, op: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Send request ``request_id`` and read up to its answer, serving reverse calls."""
        self.send({"id": request_id, "op": op, **fields})
        # Outside a test (collection, a fixture's teardown) a call gets a fixed minute.
        deadline = None if self.budget is not None else time.monotonic() + 60.0
        while True:
            message = self._read_message(deadline, "call")
            assert message is not None
            if "rid" in message or "rec" in message:
                self._reverse(message)
                continue
            if message.get("id") != request_id:
                self.close()
                raise ProtocolViolation("the submission's side answered out of turn")
            if "bridge_error" in message:
                why = wire.text(message["bridge_error"], 200)
                raise ProtocolViolation(f"the submission's answer cannot cross the bridge: {why}")
            return message

    def quiesce(self) -> None:
        """Tell the subject's side to stop polling now (a hush, :mod:`grader.bridge.protocol`),
        so that it is idle, not spinning, when its CPU counter is read. It polls after every
        answer until the next request comes, or for ``SPIN_SECONDS``; waiting that out cost a
        measured batch 0.3 ms. Nothing to say if it was told already and no request since."""
        if not self._hushed:
            self._hushed = True
            self.send({"hush": True})

    def send(self, message: dict[str, Any]) -> None:
        """Send one frame (a request or a reverse call's reply) to the subject."""
        if self.run is None:
            return  # the subject is gone; a late reply has nobody to reach
        budget = self._budget_now()
        data = wire.frame_for_subject(self.outgoing(message))
        while True:
            # A submission that stops reading must not stall the harness past the test's
            # budget: the write waits until the budget could be spent, then resumes.
            due = budget.due if budget is not None else time.monotonic() + 60.0
            try:
                self.run.send(data, timeout=max(due - time.monotonic(), 0.01))
                return
            except SandboxTimeout as exc:
                overrun = budget.overrun() if budget is not None else "timed out after 60 s"
                if overrun is not None or exc.written is None:
                    self._timed_out(overrun or f"timed out after {self.test_timeout:g} s")
                data = data[exc.written :]
            except SandboxError:
                self._died("call")
                return

    def pump(self, seconds: float) -> None:
        """Serve reverse calls for up to ``seconds`` while no request is waiting for an answer."""
        if self.run is None:
            return
        until = time.monotonic() + seconds
        # Spending the test's own budget while pumping is that test's timeout (checked by
        # the reads, as for a call); reaching ``until`` just ends the pumping.
        fatal = self.budget is not None
        while True:
            message = self._read_message(until, "call", fatal=fatal, soft=True)
            if message is None:
                return
            if "rid" not in message and "rec" not in message:
                self.close()
                raise ProtocolViolation("the submission's side answered out of turn")
            self._reverse(message)
            if self.run is None:
                return
            until, fatal = time.monotonic(), False  # then only what is already buffered

    def _reverse(self, message: dict[str, Any]) -> None:
        """Hand a reverse call to the bridge; a call it refuses ends this subject (the
        submission's side would wait for an answer, or go on abusing the path)."""
        if self.on_reverse is None:
            self.close()
            raise ProtocolViolation("the submission's side made a call nobody serves")
        try:
            self.on_reverse(message)
        except ProtocolViolation:
            self.close()
            raise

    def cpu_usage(self, settle: float = 0.0) -> float | None:
        """CPU seconds the current subject's sandbox has used, read from outside it (after
        waiting up to ``settle`` seconds for it to be at rest, ``SandboxRun.cpu_usage``)."""
        return self.run.cpu_usage(settle) if self.run is not None else None

    def _read_message(
        self, deadline: float | None, what: str, fatal: bool = True, soft: bool = False
    ) -> dict[str, Any] | None:
        """Read one whole frame; see :meth:`_fill` for the deadlines (``None``: the frame did
        not come whole in time, and stays to be read later)."""
        buffer = self._buffer
        try:
            if not self._fill(wire.HEADER_SIZE, deadline, what, fatal, soft):
                return None
            end = wire.HEADER_SIZE + wire.frame_length(bytes(buffer[: wire.HEADER_SIZE]))
            if not self._fill(end, deadline, what, fatal, soft):
                return None
            body = bytes(buffer[wire.HEADER_SIZE : end])
            del buffer[:end]
            message = wire.parse(body)
        except wire.WireError as exc:
            self.close()
            raise ProtocolViolation(
                f"malformed message from the submission's side: {exc}"
            ) from None
        if ("rid" in message or "rec" in message) and len(body) > protocol.MAX_REVERSE_FRAME:
            self.close()
            raise ProtocolViolation(
                f"a call from the submission's side of {len(body)} bytes is over the "
                f"{protocol.MAX_REVERSE_FRAME} byte limit"
            )
        return message

    def _fill(
        self, n: int, deadline: float | None, what: str, fatal: bool = True, soft: bool = False
    ) -> bool:
        """Read until the buffer holds ``n`` bytes, or fail the test (timeout, or the subject
        died).

        A ``fatal`` call read fails the test once the test's budget is spent; a ``fatal``
        read that is not ``soft`` also at ``deadline``. Otherwise reaching ``deadline`` returns
        ``False``, with what was read kept in the buffer.
        """
        if len(self._buffer) >= n:
            return True  # a frame usually comes whole in one read: nothing to look at then
        assert self.run is not None
        budget = self._budget_now() if fatal and what == "call" else None
        hard = fatal and not soft
        polled = hard  # a read that may end quietly looks at least once, even past its end
        while len(self._buffer) < n:
            now = time.monotonic()
            if deadline is not None and now >= deadline and polled:
                if not hard:
                    return False
                self._timed_out(f"timed out after {self.test_timeout:g} s")
            if budget is not None and now >= budget.due:
                message = budget.overrun()
                if message is not None:
                    self._timed_out(message)
            ends = [t for t in (deadline, budget.due if budget else None) if t is not None]
            remaining = min(ends) - now if ends else 60.0
            polled = True
            try:
                chunk = self.run.recv(max(65536, n - len(self._buffer)), timeout=max(remaining, 0))
            except SandboxTimeout:
                continue
            if not chunk:
                self._died(what)
            self._buffer += chunk
        return True

    def _timed_out(self, message: str) -> NoReturn:
        """Replace the hung subject (without waiting for it) and fail the test as a timeout."""
        self.close(wait=False)
        raise SubjectTimeout(message)

    def _died(self, when: str) -> None:
        """The subject is gone: say how it ended."""
        run = self.run
        self.close()
        reason = "it ended"
        result = self.last_end
        if run is not None and result is not None:
            if result.memory_killed:
                reason = "it ran out of memory"
            elif result.output_truncated:
                reason = "it wrote more than its output limit"
            elif result.timed_out:
                reason = "the sandbox's time limit was reached"
            else:
                reason = f"it ended ({end_in_words(result.exit_code, result.signal)})"
        during = "import" if when == "import" else "a call"
        raise SubjectDied(f"the submission's process ended during {during}: {reason}")
