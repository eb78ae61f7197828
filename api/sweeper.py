"""The sweeper: hands over again what was stranded, in every service and worker process.

Each sweep, with conditional updates so that any number of sweepers can run at once:

- a ``running`` submission whose lease ran out (its worker died, hung or lost the database
  for longer than a lease) is ``queued`` again and published, or settled as ``error`` once it
  has used up its attempts (a submission that kills every worker taking it ends there);
- a ``received`` submission never handed to the queue (the broker was down) is published;
- a ``queued`` one handed over longer ago than ``redispatch_after`` (its message may be lost
  with a broker's data) is published again.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.dispatch import Dispatcher, hand_over
from api.leases import give_up_message
from api.models import Status, Submission, utcnow

log = logging.getLogger("api.sweeper")

#: Rows one sweep looks at, per kind: a sweep stays short however large a backlog is.
BATCH = 200
#: Seconds a just-received submission is left to the request that stored it.
RECEIVED_GRACE = 3.0


class Sweeper:
    """Sweeps every ``interval`` seconds in a thread; remembers when it last succeeded."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        dispatcher: Dispatcher,
        max_attempts: int,
        redispatch_after: float,
        interval: float,
    ) -> None:
        self.sessions = sessions
        self.dispatcher = dispatcher
        self.max_attempts = max_attempts
        self.redispatch_after = redispatch_after
        self.interval = interval
        self.last_success = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start sweeping in the background."""
        self._thread = threading.Thread(target=self._run, name="sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sweeping."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def healthy(self) -> bool:
        """Whether a sweep succeeded lately (three intervals, at least 15 s)."""
        return time.monotonic() - self.last_success < max(15.0, 3 * self.interval)

    def _run(self) -> None:
        """Sweep until stopped; failures are logged once per outage."""
        failing = False
        while not self._stop.wait(self.interval):
            try:
                self.sweep()
            except Exception as exc:  # e.g. the database is away: next time
                if not failing:
                    log.warning("sweep failed: %s: %s", type(exc).__name__, _first_line(exc))
                failing = True
            else:
                if failing:
                    log.warning("sweeping again")
                failing = False

    def sweep(self) -> int:
        """One sweep; how many submissions were handed over."""
        now = utcnow()
        self._expired_leases(now)
        ids = self._undispatched(now)
        handed = hand_over(self.sessions, self.dispatcher, ids) if ids else 0
        if handed < len(ids):  # the broker is away: due again at the next sweep
            with self.sessions() as session:
                session.execute(
                    update(Submission)
                    .where(Submission.id.in_(ids[handed:]), Submission.dispatched_at == now)
                    .values(dispatched_at=None)
                )
                session.commit()
        if handed:
            log.info("sweeper handed %d submission(s) to the queue", handed)
        self.last_success = time.monotonic()
        return handed

    def _expired_leases(self, now: datetime) -> None:
        """Requeue, undispatched, (or give up on) running rows whose lease ran out."""
        expired = or_(Submission.lease_expires_at.is_(None), Submission.lease_expires_at < now)
        with self.sessions() as session:
            rows = session.execute(
                select(Submission.id, Submission.attempts)
                .where(Submission.status == Status.RUNNING.value, expired)
                .order_by(Submission.created_at)
                .limit(BATCH)
            ).all()
            for submission_id, attempts in rows:
                same = (
                    Submission.id == submission_id,
                    Submission.attempts == attempts,
                    Submission.status == Status.RUNNING.value,
                    expired,
                )
                if attempts >= self.max_attempts:
                    values = {
                        "status": Status.ERROR.value,
                        "finished_at": now,
                        "lease_expires_at": None,
                        "error": give_up_message(self.max_attempts),
                    }
                else:
                    values = {
                        "status": Status.QUEUED.value,
                        "started_at": None,
                        "lease_owner": None,
                        "lease_expires_at": None,
                        "dispatched_at": None,
                    }
                done = session.execute(update(Submission).where(*same).values(**values))
                if getattr(done, "rowcount", 0) != 1:
                    continue
                log.warning(
                    "lease of %s (attempt %d) ran out: %s",
                    submission_id,
                    attempts,
                    "giving up" if attempts >= self.max_attempts else "queued again",
                )
            session.commit()

    def _undispatched(self, now: datetime) -> list[str]:
        """Stamp and return rows never handed over, or handed over too long ago."""
        grace = now - timedelta(seconds=RECEIVED_GRACE)
        stale = now - timedelta(seconds=self.redispatch_after)
        due = or_(
            and_(
                Submission.status == Status.RECEIVED.value,
                Submission.created_at < grace,
                or_(Submission.dispatched_at.is_(None), Submission.dispatched_at < grace),
            ),
            and_(
                Submission.status == Status.QUEUED.value,
                or_(Submission.dispatched_at.is_(None), Submission.dispatched_at < stale),
            ),
        )
        taken = []
        with self.sessions() as session:
            rows = session.execute(
                select(Submission.id, Submission.dispatched_at)
                .where(due)
                .order_by(Submission.created_at)
                .limit(BATCH)
            ).all()
            for submission_id, stamp in rows:
                unchanged = (
                    Submission.dispatched_at.is_(None)
                    if stamp is None
                    else Submission.dispatched_at == stamp
                )
                done = session.execute(
                    update(Submission)
                    .where(Submission.id == submission_id, unchanged, due)
                    .values(dispatched_at=now)
                )
                if getattr(done, "rowcount", 0) == 1:
                    taken.append(submission_id)
            session.commit()
        return taken


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message."""
    return (str(exc).strip().splitlines() or [""])[0][:200]
