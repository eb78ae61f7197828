"""Grading leases: how a worker takes a submission, keeps it, and stores its result once.

A worker *claims* a waiting submission: one conditional UPDATE makes it ``running``, counts
one more attempt and records the worker (``lease_owner``) and until when it holds the lease.
While grading, the worker's :class:`LeaseKeeper` renews its leases. The result is stored only
if the row still says ``running``, attempt N, this owner: a redelivered or duplicated message,
or a worker whose lease expired and was taken over, can never overwrite a newer result, and
nobody grades a submission that someone else holds. Expired leases are the sweeper's job
(:mod:`api.sweeper`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.models import Status, Submission, utcnow
from api.store import WAITING_VALUES

log = logging.getLogger("api.leases")


def node_id() -> str:
    """A name for this process that no other process has had: host, pid and a nonce."""
    return f"{socket.gethostname()[:60]}/{os.getpid()}/{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Claim:
    """A submission leased for grading: attempt ``attempt`` belongs to ``owner``."""

    id: str
    exercise: str
    files: str
    attempt: int
    owner: str


def give_up_message(max_attempts: int) -> str:
    """The ``error`` of a submission whose gradings were cut short too often."""
    return f"grading was interrupted {max_attempts} times; giving up"


def claim(
    sessions: sessionmaker[Session],
    submission_id: str,
    owner: str,
    lease_seconds: float,
    max_attempts: int,
) -> Claim | None:
    """Lease a waiting submission for one more attempt; ``None`` if it is not waiting (or
    has used up its attempts, in which case it is settled as ``error``)."""
    now = utcnow()
    with sessions() as session:
        done = session.execute(
            update(Submission)
            .where(
                Submission.id == submission_id,
                Submission.status.in_(WAITING_VALUES),
                Submission.attempts < max_attempts,
            )
            .values(
                status=Status.RUNNING.value,
                attempts=Submission.attempts + 1,
                started_at=now,
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
            )
        )
        if getattr(done, "rowcount", 0) != 1:
            exhausted = session.execute(
                update(Submission)
                .where(
                    Submission.id == submission_id,
                    Submission.status.in_(WAITING_VALUES),
                    Submission.attempts >= max_attempts,
                )
                .values(
                    status=Status.ERROR.value,
                    finished_at=now,
                    error=give_up_message(max_attempts),
                )
            )
            session.commit()
            if getattr(exhausted, "rowcount", 0):
                log.warning("%s: %s", submission_id, give_up_message(max_attempts))
            return None
        session.commit()
        row = session.execute(
            select(Submission.exercise, Submission.files, Submission.attempts).where(
                Submission.id == submission_id
            )
        ).one()
    return Claim(submission_id, row.exercise, row.files, row.attempts, owner)


def settle(sessions: sessionmaker[Session], held: Claim, status: Status, **fields: Any) -> bool:
    """Store how attempt ``held.attempt`` ended; ``False`` (nothing written) unless the row is
    still running that attempt under this owner."""
    with sessions() as session:
        done = session.execute(
            update(Submission)
            .where(
                Submission.id == held.id,
                Submission.attempts == held.attempt,
                Submission.lease_owner == held.owner,
                Submission.status == Status.RUNNING.value,
            )
            .values(status=status.value, finished_at=utcnow(), lease_expires_at=None, **fields)
        )
        session.commit()
    return getattr(done, "rowcount", 0) == 1


def release(sessions: sessionmaker[Session], held: list[Claim]) -> list[str]:
    """Give leases back unfinished (shutting down): the rows are waiting again, undispatched;
    the ids of those that were still ours."""
    released = []
    with sessions() as session:
        for claim_ in held:
            done = session.execute(
                update(Submission)
                .where(
                    Submission.id == claim_.id,
                    Submission.attempts == claim_.attempt,
                    Submission.lease_owner == claim_.owner,
                    Submission.status == Status.RUNNING.value,
                )
                .values(
                    status=Status.QUEUED.value,
                    started_at=None,
                    lease_owner=None,
                    lease_expires_at=None,
                    dispatched_at=None,
                )
            )
            if getattr(done, "rowcount", 0) == 1:
                released.append(claim_.id)
        session.commit()
    return released


class LeaseKeeper:
    """Renews the leases this process holds, a third of a lease apart (every second after a
    failure, e.g. while the database is away), so a live worker keeps what it grades."""

    def __init__(self, sessions: sessionmaker[Session], owner: str, lease_seconds: float) -> None:
        self.sessions = sessions
        self.owner = owner
        self.lease_seconds = lease_seconds
        self._held: dict[tuple[str, int], Claim] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, held: Claim) -> None:
        """Keep renewing ``held`` until :meth:`drop`."""
        with self._lock:
            self._held[(held.id, held.attempt)] = held

    def drop(self, held: Claim) -> None:
        """Stop renewing ``held``."""
        with self._lock:
            self._held.pop((held.id, held.attempt), None)

    def held(self) -> list[Claim]:
        """What this process holds now."""
        with self._lock:
            return list(self._held.values())

    def start(self) -> None:
        """Start the renewing thread."""
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop renewing (the leases then run out unless settled or released)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def renew(self) -> int:
        """Extend every held lease that is still ours; how many were."""
        ids = [held.id for held in self.held()]
        if not ids:
            return 0
        with self.sessions() as session:
            done = session.execute(
                update(Submission)
                .where(
                    Submission.id.in_(ids),
                    Submission.lease_owner == self.owner,
                    Submission.status == Status.RUNNING.value,
                )
                .values(lease_expires_at=utcnow() + timedelta(seconds=self.lease_seconds))
            )
            session.commit()
        return int(getattr(done, "rowcount", 0))

    def _run(self) -> None:
        """Renew until stopped; a failure is retried a second later."""
        pause = self.lease_seconds / 3
        while not self._stop.wait(pause):
            try:
                self.renew()
                pause = self.lease_seconds / 3
            except Exception as exc:  # the database is away: try again soon
                log.warning("renewing leases failed: %s", type(exc).__name__)
                pause = min(1.0, self.lease_seconds / 3)
