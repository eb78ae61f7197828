"""The service's long-lived parts, built once at start-up and shared by handlers and workers."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api import store
from api.db import make_sessions, open_database
from api.errors import ApiError
from api.jobqueue import LocalQueue, WorkQueue
from api.metrics import Metrics
from api.notify import Notifier
from api.ratelimit import RateLimiter
from api.settings import Settings
from api.worker import GradingJob, WorkerPool
from grader.catalogue import Catalogue
from grader.errors import ExerciseNotFound, GraderError
from grader.exercise import Exercise
from grader.harness.runner import SuiteRunner
from grader.runners import SandboxChoice, make_runner

log = logging.getLogger("api")

#: Seconds a sandbox check result is reused by ``/readyz`` (a Docker ping is not free).
SANDBOX_CHECK_TTL = 30.0


@dataclass
class Services:
    """Everything a request or a worker needs besides its own data."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    catalogue: Catalogue
    runner: SuiteRunner
    warning: str | None
    queue: WorkQueue
    pool: WorkerPool
    metrics: Metrics
    limiter: RateLimiter
    notifier: Notifier
    _sandbox_check: tuple[float, bool, str] | None = field(default=None, repr=False)
    _check_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self) -> int:
        """Queue again what a crash left unfinished, then start the workers; how many."""
        pending = store.recover(self.sessions, self.settings.max_attempts)
        for submission_id in pending:
            self.queue.enqueue(submission_id)
        self.pool.start()
        return len(pending)

    def stop(self) -> None:
        """Let running gradings finish within the grace period; queue the rest again."""
        unfinished = self.pool.stop(self.settings.shutdown_grace)
        if unfinished:
            log.warning("requeueing %d unfinished grading(s)", len(unfinished))
            store.requeue(self.sessions, unfinished)
        self.engine.dispose()

    def exercise(self, slug: str) -> Exercise:
        """The exercise ``slug``: ``404`` if there is none, ``500`` if it is misconfigured."""
        try:
            return self.catalogue.get(slug)
        except ExerciseNotFound:
            raise ApiError(
                404,
                "exercise_not_found",
                f"unknown exercise {slug!r}",
                {"exercise": slug, "known": self.catalogue.slugs()},
            ) from None
        except GraderError as exc:
            log.error("exercise %s cannot be loaded: %s", slug, exc)
            raise ApiError(
                500, "exercise_invalid", f"exercise {slug!r} is misconfigured on the server"
            ) from None

    def exercises(self) -> list[Exercise]:
        """Every exercise that loads (a misconfigured one is logged and left out)."""
        found = []
        for slug in self.catalogue.slugs():
            try:
                found.append(self.catalogue.get(slug))
            except GraderError as exc:
                log.error("exercise %s cannot be loaded: %s", slug, exc)
        return found

    def sandbox_status(self) -> tuple[bool, str]:
        """Whether the configured sandbox can run gradings now (cached for a while)."""
        with self._check_lock:
            now = time.monotonic()
            if self._sandbox_check and now - self._sandbox_check[0] < SANDBOX_CHECK_TTL:
                return self._sandbox_check[1], self._sandbox_check[2]
            ok, text = _check_sandbox(self.settings)
            self._sandbox_check = (now, ok, text)
            return ok, text


def _check_sandbox(settings: Settings) -> tuple[bool, str]:
    """Try to set the configured sandbox up, as a grading would."""
    choice = settings.sandbox
    if choice is SandboxChoice.NONE:
        return True, "ok (none: direct mode, unsandboxed)"
    try:
        runner, _warning = make_runner(choice, settings.sandbox_image, settings.sandbox_runtime)
    except GraderError as exc:
        return False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return True, f"ok ({getattr(runner, 'backend', None) or choice.value})"


def build_services(settings: Settings) -> Services:
    """Connect and migrate the database, load the catalogue, set up the sandbox and workers.

    Raises ``GraderError`` when the database, the exercises or the sandbox cannot be used.
    """
    engine = open_database(settings.database_url)
    sessions = make_sessions(engine)
    catalogue = Catalogue(settings.exercises_dir)
    runner, warning = make_runner(
        settings.sandbox, settings.sandbox_image, settings.sandbox_runtime
    )
    queue = LocalQueue()
    metrics, notifier = Metrics(), Notifier()
    job = GradingJob(sessions, catalogue, runner, metrics, notifier)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        catalogue=catalogue,
        runner=runner,
        warning=warning,
        queue=queue,
        pool=WorkerPool(settings.workers, queue, job),
        metrics=metrics,
        limiter=RateLimiter(settings.rate_per_minute, settings.rate_burst),
        notifier=notifier,
    )
