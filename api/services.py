"""The service's long-lived parts, built once at start-up and shared by handlers and workers.

Embedded mode (no broker): an in-process queue and a pool of grading threads, the rate limits
in memory. Fleet mode (``broker_url``): submissions go to Celery for ``grader worker`` nodes,
the rate limits and progress events go through Redis, and this process grades nothing itself
(unless ``workers`` asks for a local worker node, started as a child process).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.db import make_sessions, open_database
from api.dispatch import Dispatcher, LocalDispatcher, hand_over
from api.errors import ApiError
from api.jobqueue import LocalQueue
from api.leases import LeaseKeeper, node_id, release
from api.metrics import Metrics
from api.models import Status, Submission
from api.notify import Notifier
from api.ratelimit import Limiter, RateLimiter
from api.settings import Settings
from api.store import WAITING_VALUES
from api.sweeper import Sweeper
from api.worker import GradingJob, WorkerPool
from api.workstate import FleetState, LocalQueueState, PoolState, QueueState
from grader.catalogue import Catalogue
from grader.errors import ExerciseNotFound, GraderError
from grader.exercise import Exercise
from grader.harness.runner import SuiteRunner
from grader.runners import SandboxChoice, make_runner
from grader.warm import pool_stats, resident_counts

if TYPE_CHECKING:
    from api.fleet import FleetParts

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
    runner: SuiteRunner | None
    warning: str | None
    dispatcher: Dispatcher
    local_pool: WorkerPool | None
    keeper: LeaseKeeper | None
    sweeper: Sweeper
    metrics: Metrics
    limiter: Limiter
    notifier: Notifier
    fleet: FleetParts | None = None
    queue: QueueState = field(init=False)
    pool: PoolState = field(init=False)
    _sandbox_check: tuple[float, bool, str] | None = field(default=None, repr=False)
    _check_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        """The queue's and the workers' state as the views (``/metrics``, the admin page)
        read them: this process's own in embedded mode, the fleet's from the database."""
        if self.local_pool is not None:
            self.queue, self.pool = LocalQueueState(self.dispatcher), self.local_pool
        else:
            self.queue, self.pool = FleetState(self), FleetState(self)

    def start(self) -> int:
        """Start grading and sweeping; how many waiting submissions were queued locally."""
        queued = 0
        if self.local_pool is not None and self.keeper is not None:
            # The in-process queue died with the last process: refill it from the rows.
            with self.sessions() as session:
                waiting = session.scalars(
                    select(Submission.id)
                    .where(Submission.status.in_(WAITING_VALUES))
                    .order_by(Submission.created_at, Submission.id)
                ).all()
            queued = hand_over(self.sessions, self.dispatcher, list(waiting))
            self.keeper.start()
            self.local_pool.start()
        if self.fleet is not None:
            self.fleet.start(self.notifier)
        self.sweeper.start()
        return queued

    def stop(self) -> None:
        """Let running gradings finish within the grace period; give the rest back."""
        self.sweeper.stop()
        if self.local_pool is not None and self.keeper is not None:
            self.local_pool.stop(self.settings.shutdown_grace)
            unfinished = self.keeper.held()
            self.keeper.stop()
            if unfinished:
                log.warning("requeueing %d unfinished grading(s)", len(unfinished))
                release(self.sessions, unfinished)
        if self.fleet is not None:
            self.fleet.stop(self.settings.shutdown_grace)
        self.engine.dispose()

    def workers(self) -> tuple[int, int]:
        """(alive, expected) grading workers of this process (a local worker node counts)."""
        if self.local_pool is not None:
            return self.local_pool.alive(), self.local_pool.size
        if self.fleet is not None:
            return self.fleet.local_workers()
        return 0, 0

    def counts(self) -> tuple[int, int]:
        """(waiting, running) submissions, from the database: the same on every node."""
        with self.sessions() as session:
            rows = session.execute(
                select(Submission.status, func.count())
                .where(Submission.status.in_((*WAITING_VALUES, Status.RUNNING.value)))
                .group_by(Submission.status)
            ).all()
        by_status = {status: int(count) for status, count in rows}
        waiting = sum(by_status.get(status, 0) for status in WAITING_VALUES)
        return waiting, by_status.get(Status.RUNNING.value, 0)

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

    def sandbox_status(self) -> tuple[bool, str] | None:
        """Whether the configured sandbox can run gradings now (cached for a while);
        ``None`` where this process grades nothing (an API node of a fleet)."""
        if self.local_pool is None:
            return None
        with self._check_lock:
            now = time.monotonic()
            if self._sandbox_check and now - self._sandbox_check[0] < SANDBOX_CHECK_TTL:
                return self._sandbox_check[1], self._sandbox_check[2]
            ok, text = check_sandbox(self.settings)
            self._sandbox_check = (now, ok, text)
            return ok, text


def check_sandbox(settings: Settings) -> tuple[bool, str]:
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
    """Connect and migrate the database, load the catalogue, set up the queue, the sandbox
    and workers (embedded) or the broker and Redis (fleet).

    Raises ``GraderError`` when the database, the exercises, the sandbox or (fleet) the
    broker's settings cannot be used.
    """
    engine = open_database(settings.database_url)
    sessions = make_sessions(engine)
    catalogue = Catalogue(settings.exercises_dir)
    metrics, notifier = Metrics(), Notifier()
    if settings.fleet:
        from api.fleet import build_fleet_parts

        parts = build_fleet_parts(settings)
        return Services(
            settings=settings,
            engine=engine,
            sessions=sessions,
            catalogue=catalogue,
            runner=None,
            warning=None,
            dispatcher=parts.dispatcher,
            local_pool=None,
            keeper=None,
            sweeper=_sweeper(settings, sessions, parts.dispatcher),
            metrics=metrics,
            limiter=parts.limiter,
            notifier=notifier,
            fleet=parts,
        )
    # The service's workers always take warm sandboxes from the process's pool.
    runner, warning = make_runner(
        settings.sandbox,
        settings.sandbox_image,
        settings.sandbox_runtime,
        warm=settings.warm_pool(),
    )
    register_pool_gauges(metrics)
    queue = LocalQueue()
    dispatcher = LocalDispatcher(queue)
    keeper = LeaseKeeper(sessions, node_id(), settings.lease_seconds)
    job = GradingJob(sessions, catalogue, runner, metrics, notifier, keeper, settings.max_attempts)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        catalogue=catalogue,
        runner=runner,
        warning=warning,
        dispatcher=dispatcher,
        local_pool=WorkerPool(settings.workers, queue, job),
        keeper=keeper,
        sweeper=_sweeper(settings, sessions, dispatcher),
        metrics=metrics,
        limiter=RateLimiter(settings.rate_per_minute, settings.rate_burst),
        notifier=notifier,
    )


def register_pool_gauges(metrics: Metrics) -> None:
    """Expose this process's warm sandbox pool (see ``grader.warm``) on ``/metrics``."""
    for stat, documentation in (
        ("ready", "Warm sandboxes started and waiting to be handed out."),
        ("handed_out", "Warm sandboxes handed to a grading and not yet removed."),
        ("created", "Warm sandboxes started since the service started."),
        ("misses", "Sandbox starts that found no warm one ready."),
    ):
        metrics.register_gauge(
            f"grader_sandbox_pool_{stat}",
            documentation,
            partial(_pool_total, stat),
        )
    for index, (state, documentation) in enumerate(
        (
            ("idle", "Resident reference sandboxes waiting to be lent to a grading."),
            ("lent", "Resident reference sandboxes lent to a grading now."),
        )
    ):
        metrics.register_gauge(
            f"grader_resident_references_{state}", documentation, partial(_residents, index)
        )


def _residents(index: int) -> float:
    """How many resident references wait (0) or are lent (1) in this process."""
    return float(resident_counts()[index])


def _pool_total(stat: str) -> float:
    """One statistic summed over this process's warm pools."""
    return float(sum(getattr(stats, stat) for stats in pool_stats()))


def _sweeper(
    settings: Settings, sessions: sessionmaker[Session], dispatcher: Dispatcher
) -> Sweeper:
    """The sweeper of this process."""
    return Sweeper(
        sessions,
        dispatcher,
        settings.max_attempts,
        settings.redispatch_seconds,
        settings.sweep_interval,
    )
