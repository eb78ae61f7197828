"""Handing stored submissions to the graders: a queue publishes ids; the row records it.

The row is the record of a submission; a message only says "grade this one". The accept path
commits the row (``received``) first, then publishes, then marks it ``queued``. If publishing
fails (the broker is away for a moment), the row stays ``received`` and the sweeper hands it
over later: nothing accepted is lost. A duplicated message costs nothing, as a worker can
only lease a submission that is waiting (:mod:`api.leases`).
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import case, update
from sqlalchemy.orm import Session, sessionmaker

from api.jobqueue import LocalQueue
from api.models import Status, Submission, utcnow
from api.store import WAITING_VALUES

log = logging.getLogger("api.dispatch")


class Dispatcher(Protocol):
    """Where submission ids go to be graded."""

    def publish(self, submission_id: str) -> None:
        """Send ``submission_id`` to the graders; raises if it could not be sent."""
        ...

    def depth(self) -> int | None:
        """Messages waiting for a grader, if the queue can tell."""
        ...


class LocalDispatcher:
    """Embedded mode: the in-process queue of the worker threads."""

    def __init__(self, queue: LocalQueue) -> None:
        self.queue = queue

    def publish(self, submission_id: str) -> None:
        """Put ``submission_id`` in the local queue (once)."""
        self.queue.enqueue(submission_id)

    def depth(self) -> int | None:
        """Ids waiting in the local queue."""
        return self.queue.depth()


def mark_dispatched(sessions: sessionmaker[Session], submission_id: str) -> None:
    """Record that ``submission_id`` was just handed over: ``received`` becomes ``queued``."""
    with sessions() as session:
        session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status.in_(WAITING_VALUES))
            .values(
                status=case(
                    (Submission.status == Status.RECEIVED.value, Status.QUEUED.value),
                    else_=Submission.status,
                ),
                dispatched_at=utcnow(),
            )
        )
        session.commit()


def hand_over(sessions: sessionmaker[Session], dispatcher: Dispatcher, ids: list[str]) -> int:
    """Publish each id and mark it; stops at the first failure (the sweeper tries the rest
    later). How many were handed over."""
    for done, submission_id in enumerate(ids):
        try:
            dispatcher.publish(submission_id)
        except Exception as exc:
            log.warning(
                "could not hand %d submission(s) to the queue (%s: %s); the sweeper retries",
                len(ids) - done,
                type(exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "",
            )
            return done
        try:
            mark_dispatched(sessions, submission_id)
        except Exception as exc:  # sent all the same; a later sweep may send it again
            log.warning("could not mark %s as queued: %s", submission_id, type(exc).__name__)
    return len(ids)
