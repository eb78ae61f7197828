"""The grading workers: a bounded pool of threads taking submission ids off the queue.

Each grading runs the hidden suite in child processes (``grader.grading.grade``), so threads
are enough here: the heavy lifting happens outside this process.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from api import store
from api.jobqueue import WorkQueue
from api.metrics import Metrics
from api.models import Status, Submission
from api.notify import Notifier
from grader.catalogue import Catalogue
from grader.errors import GraderError
from grader.grading import grade
from grader.harness.runner import SuiteRunner
from grader.public import REDACTED, to_public
from grader.submission import from_text

log = logging.getLogger("api.worker")

#: How long a worker waits on an empty queue before checking whether it should stop.
_IDLE_POLL = 0.2


class GradingJob:
    """Grade one submission by id and store the outcome; never raises for a grading problem."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        catalogue: Catalogue,
        runner: SuiteRunner,
        metrics: Metrics,
        notifier: Notifier,
    ) -> None:
        self.sessions = sessions
        self.catalogue = catalogue
        self.runner = runner
        self.metrics = metrics
        self.notifier = notifier

    def __call__(self, submission_id: str) -> None:
        """Claim, grade, settle; a submission that is not queued any more is skipped."""
        row = store.claim(self.sessions, submission_id)
        if row is None:
            return
        self.notifier.notify(submission_id)
        started = time.monotonic()
        try:
            status, fields = self._grade(row)
        except GraderError as exc:
            log.warning("grading %s failed: %s", submission_id, exc)
            status, fields = Status.ERROR, {"error": self._safe_message(row.exercise, exc)}
        except Exception:  # a bug here must cost one submission, not the worker
            log.exception("grading %s crashed", submission_id)
            status, fields = Status.ERROR, {"error": "internal error while grading"}
        _retry(lambda: store.settle(self.sessions, submission_id, row.attempts, status, **fields))
        self.metrics.graded(
            status.value, str(fields.get("result") or ""), time.monotonic() - started
        )
        self.notifier.notify(submission_id)

    def _grade(self, row: Submission) -> tuple[Status, dict[str, Any]]:
        """Run the hidden suite; the public report for the candidate, the full one kept aside."""
        exercise = self.catalogue.get(row.exercise)
        module = exercise.meta.module
        source = json.loads(row.files)[module].encode("utf-8")
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


def _retry(action: Callable[[], object], attempts: int = 5) -> None:
    """Run a database write, retrying briefly: losing a finished grading would be a waste."""
    for attempt in range(attempts):
        try:
            action()
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            log.warning("storing a result failed; retrying", exc_info=True)
            time.sleep(0.2 * 2**attempt)


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
