"""Grading: the job that leases, grades and settles one submission, and (embedded mode) a
bounded pool of threads taking submission ids off the in-process queue.

Each grading runs the hidden suite in child processes (``grader.grading.grade``), so threads
are enough here: the heavy lifting happens outside this process. In a fleet the same job runs
in Celery's worker threads (:mod:`api.fleet`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from api import leases
from api.jobqueue import WorkQueue
from api.leases import Claim, LeaseKeeper
from api.metrics import Metrics
from api.models import Status
from grader.catalogue import Catalogue
from grader.errors import GraderError
from grader.grading import grade
from grader.harness.runner import SuiteRunner
from grader.public import REDACTED, to_public
from grader.submission import from_text

log = logging.getLogger("api.worker")

#: How long a worker waits on an empty queue before checking whether it should stop.
_IDLE_POLL = 0.2


class ChangeSink(Protocol):
    """Told whenever a submission changes (wakes long-polls and event streams)."""

    def notify(self, submission_id: str) -> None:
        """``submission_id`` changed."""
        ...


class GradingJob:
    """Lease one submission by id, grade it and store the outcome under the lease.

    Never raises for a grading problem (that is the submission's ``error``); raises only when
    the database cannot be reached to lease it, so the caller can try the message again.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        catalogue: Catalogue,
        runner: SuiteRunner,
        metrics: Metrics,
        notifier: ChangeSink,
        keeper: LeaseKeeper,
        max_attempts: int,
    ) -> None:
        self.sessions = sessions
        self.catalogue = catalogue
        self.runner = runner
        self.metrics = metrics
        self.notifier = notifier
        self.keeper = keeper
        self.max_attempts = max_attempts

    def __call__(self, submission_id: str) -> None:
        """Claim, grade, settle; a submission that is not waiting any more is skipped."""
        held = leases.claim(
            self.sessions,
            submission_id,
            self.keeper.owner,
            self.keeper.lease_seconds,
            self.max_attempts,
        )
        if held is None:
            return
        self.keeper.hold(held)
        try:
            self._notify(submission_id)
            # One line per grading started: operators (and the fleet tests) count them.
            log.info("grading %s attempt %d", submission_id, held.attempt)
            started = time.monotonic()
            status, fields = self._outcome(held)
            stored = self._store(held, status, fields)
        finally:
            self.keeper.drop(held)
        log.info(
            "graded %s attempt %d: %s%s",
            submission_id,
            held.attempt,
            status.value,
            "" if stored else " (not stored: the lease was taken over)",
        )
        self.metrics.graded(
            status.value, str(fields.get("result") or ""), time.monotonic() - started
        )
        self._notify(submission_id)

    def _notify(self, submission_id: str) -> None:
        """Tell the listeners; a failure to tell is logged, never fatal."""
        try:
            self.notifier.notify(submission_id)
        except Exception as exc:
            log.warning("could not announce a change of %s: %s", submission_id, exc)

    def _outcome(self, held: Claim) -> tuple[Status, dict[str, Any]]:
        """The grading's outcome; grader faults and our own bugs become ``error``."""
        try:
            return self._grade(held)
        except GraderError as exc:
            log.warning("grading %s failed: %s", held.id, exc)
            return Status.ERROR, {"error": self._safe_message(held.exercise, exc)}
        except Exception:  # a bug here must cost one submission, not the worker
            log.exception("grading %s crashed", held.id)
            return Status.ERROR, {"error": "internal error while grading"}

    def _store(self, held: Claim, status: Status, fields: dict[str, Any]) -> bool:
        """Settle under the lease, retrying while the database is away (the keeper renews the
        lease meanwhile, so a short outage costs no regrading); ``False`` if taken over."""
        patience = time.monotonic() + max(60.0, 4 * self.keeper.lease_seconds)
        pause = 0.2
        while True:
            try:
                return leases.settle(self.sessions, held, status, **fields)
            except Exception as exc:
                if time.monotonic() > patience:
                    raise
                log.warning("storing %s failed (%s); retrying", held.id, type(exc).__name__)
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    def _grade(self, held: Claim) -> tuple[Status, dict[str, Any]]:
        """Run the hidden suite; the public report for the candidate, the full one kept aside."""
        exercise = self.catalogue.get(held.exercise)
        module = exercise.meta.module
        source = json.loads(held.files)[module].encode("utf-8")
        report = grade(exercise, from_text(source, module), self.runner)
        public = to_public(report, exercise.meta.visibility, exercise.meta.canary)
        return Status.COMPLETED, {
            "report": public.model_dump_json(),
            "full_report": report.model_dump_json(),
            "result": report.status.value,
            "score": report.score,
            "max_score": report.max_score,
            "error": None,
        }

    def _safe_message(self, slug: str, exc: GraderError) -> str:
        """The first line of a grader fault, canary removed: later lines may quote the suite."""
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        try:
            canary = self.catalogue.get(slug).meta.canary
        except GraderError:
            return f"grader fault: {text}"
        return f"grader fault: {text.replace(canary, REDACTED)}"


class WorkerPool:
    """``size`` threads running ``job`` on ids from ``queue`` until stopped."""

    def __init__(self, size: int, queue: WorkQueue, job: Callable[[str], None]) -> None:
        self.size = size
        self.queue = queue
        self.job = job
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._current: dict[int, str] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the threads."""
        for index in range(self.size):
            thread = threading.Thread(target=self._work, name=f"grader-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def alive(self) -> int:
        """How many workers are running."""
        return sum(thread.is_alive() for thread in self._threads)

    def busy(self) -> int:
        """How many workers are grading right now."""
        with self._lock:
            return len(self._current)

    def stop(self, grace: float) -> list[str]:
        """Stop taking work, give running gradings ``grace`` seconds; the ids still running."""
        self._stopping.set()
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            return list(self._current.values())

    def _work(self) -> None:
        """One worker: take, grade, acknowledge; nothing a job does stops the loop."""
        me = threading.get_ident()
        while not self._stopping.is_set():
            item = self.queue.dequeue(_IDLE_POLL)
            if item is None:
                continue
            if self._stopping.is_set():
                self.queue.nack(item)
                return
            with self._lock:
                self._current[me] = item
            try:
                self.job(item)
            except Exception:  # e.g. the database is away: try this one again shortly
                log.exception("worker failed on %s; queueing it again", item)
                self._stopping.wait(1.0)
                self.queue.nack(item)
            else:
                self.queue.ack(item)
            finally:
                with self._lock:
                    self._current.pop(me, None)
