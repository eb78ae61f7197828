"""Submission records as callers see them: created (within the caller's cap), read, listed.

What grading workers do to a record (lease, renew, settle) is in :mod:`api.leases`; what the
sweeper does (hand over again what was stranded) in :mod:`api.sweeper`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.models import WAITING, Status, Submission, utcnow

UNFINISHED = (Status.RECEIVED.value, Status.QUEUED.value, Status.RUNNING.value)
WAITING_VALUES = tuple(status.value for status in WAITING)

#: Serialises count-then-insert per process where the database cannot (SQLite).
_CAP_LOCK = threading.Lock()


class CapReached(Exception):
    """The caller already has ``count`` unfinished submissions."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


@dataclass(frozen=True)
class NewSubmission:
    """What a caller asked to have graded."""

    owner: str
    exercise: str
    files: dict[str, str]
    idempotency_key: str | None = None

    @property
    def request_hash(self) -> str:
        """A fingerprint of the request, to tell a retry from a different request."""
        canonical = json.dumps({"exercise": self.exercise, "files": self.files}, sort_keys=True)
        return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def find_idempotent(session: Session, owner: str, key: str) -> Submission | None:
    """The caller's submission made with idempotency key ``key``, if any."""
    return session.scalar(
        select(Submission).where(Submission.owner == owner, Submission.idempotency_key == key)
    )


def count_unfinished(session: Session, owner: str) -> int:
    """How many of the caller's submissions are not finished yet."""
    query = select(func.count()).where(Submission.owner == owner, Submission.status.in_(UNFINISHED))
    return int(session.scalar(query) or 0)


def insert(
    session: Session,
    new: NewSubmission,
    cap: int | None = None,
    admit: Callable[[], None] = lambda: None,
) -> tuple[Submission, bool]:
    """Store ``new`` as received and commit; ``(row, created)``.

    With ``cap``, ``CapReached`` if the owner already has that many unfinished submissions,
    counted and inserted under a per-owner lock (a PostgreSQL advisory lock, held by the
    transaction, so API nodes on one database agree); ``admit`` runs under that lock just
    before the insert (the rate limit) and may raise to refuse. Two concurrent requests with
    one idempotency key both get here; the unique constraint lets one win and the other gets
    the winner's row.
    """
    if cap is None:
        return _insert(session, new)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:owner))"), {"owner": new.owner}
        )
        return _insert_capped(session, new, cap, admit)
    with _CAP_LOCK:
        return _insert_capped(session, new, cap, admit)


def _insert_capped(
    session: Session, new: NewSubmission, cap: int, admit: Callable[[], None]
) -> tuple[Submission, bool]:
    """Count, admit, insert (the caller holds the owner's lock)."""
    count = count_unfinished(session, new.owner)
    if count >= cap:
        session.rollback()
        raise CapReached(count)
    try:
        admit()
    except BaseException:
        session.rollback()
        raise
    return _insert(session, new)


def _insert(session: Session, new: NewSubmission) -> tuple[Submission, bool]:
    """Add the row and commit; the idempotency winner's row if another request won."""
    row = Submission(
        id=str(uuid.uuid4()),
        owner=new.owner,
        exercise=new.exercise,
        files=json.dumps(new.files),
        status=Status.RECEIVED.value,
        idempotency_key=new.idempotency_key,
        request_hash=new.request_hash,
        attempts=0,
        created_at=utcnow(),
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if new.idempotency_key is None:
            raise
        existing = find_idempotent(session, new.owner, new.idempotency_key)
        if existing is None:
            raise
        return existing, False
    return row, True


def get_owned(session: Session, owner: str, submission_id: str) -> Submission | None:
    """The caller's submission ``submission_id``; another caller's is as good as missing."""
    row = session.get(Submission, submission_id)
    return row if row is not None and row.owner == owner else None


def list_owned(
    session: Session, owner: str, exercise: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[Submission], int]:
    """A page of the caller's submissions, newest first, and how many match in all."""
    query = select(Submission).where(Submission.owner == owner)
    if exercise:
        query = query.where(Submission.exercise == exercise)
    if status:
        query = query.where(Submission.status == status)
    count = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    page = session.scalars(
        query.order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(page), count


def queue_position(session: Session, row: Submission) -> int | None:
    """1 for the next submission to be graded; ``None`` unless ``row`` is waiting."""
    if row.status not in WAITING_VALUES:
        return None
    ahead = select(func.count()).where(
        Submission.status.in_(WAITING_VALUES), Submission.created_at < row.created_at
    )
    return int(session.scalar(ahead) or 0) + 1
