"""Submission records: created, read and listed for callers; claimed and settled by workers."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.models import FINAL, Status, Submission, utcnow

_UNFINISHED = (Status.QUEUED.value, Status.RUNNING.value)


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
    """How many of the caller's submissions are queued or running."""
    query = select(func.count()).where(
        Submission.owner == owner, Submission.status.in_(_UNFINISHED)
    )
    return int(session.scalar(query) or 0)


def insert(session: Session, new: NewSubmission) -> tuple[Submission, bool]:
    """Store ``new`` as queued and commit; ``(row, created)``.

    Two concurrent requests with one idempotency key both get here; the unique constraint
    lets one win and the other gets the winner's row.
    """
    row = Submission(
        id=str(uuid.uuid4()),
        owner=new.owner,
        exercise=new.exercise,
        files=json.dumps(new.files),
        status=Status.QUEUED.value,
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
    """1 for the next submission to be graded; ``None`` unless ``row`` is queued."""
    if row.status != Status.QUEUED.value:
        return None
    ahead = select(func.count()).where(
        Submission.status == Status.QUEUED.value, Submission.created_at < row.created_at
    )
    return int(session.scalar(ahead) or 0) + 1


def claim(sessions: sessionmaker[Session], submission_id: str) -> Submission | None:
    """Mark a queued submission running (one more attempt); ``None`` if it is not queued."""
    with sessions() as session:
        done = session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status == Status.QUEUED.value)
            .values(
                status=Status.RUNNING.value, attempts=Submission.attempts + 1, started_at=utcnow()
            )
        )
        session.commit()
        if getattr(done, "rowcount", 0) != 1:
            return None
        return session.get(Submission, submission_id)


def settle(
    sessions: sessionmaker[Session],
    submission_id: str,
    attempt: int,
    status: Status,
    **fields: object,
) -> bool:
    """Record how attempt ``attempt`` ended; ``False`` if a later attempt took over."""
    assert status in FINAL
    with sessions() as session:
        done = session.execute(
            update(Submission)
            .where(
                Submission.id == submission_id,
                Submission.attempts == attempt,
                Submission.status.in_(_UNFINISHED),
            )
            .values(status=status.value, finished_at=utcnow(), **fields)
        )
        session.commit()
        return getattr(done, "rowcount", 0) == 1


def requeue(sessions: sessionmaker[Session], submission_ids: list[str]) -> None:
    """Put running submissions back in the queue (the service is stopping before they end)."""
    if not submission_ids:
        return
    with sessions() as session:
        session.execute(
            update(Submission)
            .where(Submission.id.in_(submission_ids), Submission.status == Status.RUNNING.value)
            .values(status=Status.QUEUED.value, started_at=None)
        )
        session.commit()


def recover(sessions: sessionmaker[Session], max_attempts: int) -> list[str]:
    """At start-up: requeue what a crash left queued or running, oldest first.

    A submission whose gradings were interrupted ``max_attempts`` times is settled as an
    error instead, so that one that kills the service cannot do so forever.
    """
    with sessions() as session:
        rows = session.execute(
            select(Submission.id, Submission.attempts)
            .where(Submission.status.in_(_UNFINISHED))
            .order_by(Submission.created_at, Submission.id)
        ).all()
        exhausted = [sid for sid, attempts in rows if attempts >= max_attempts]
        if exhausted:
            session.execute(
                update(Submission)
                .where(Submission.id.in_(exhausted))
                .values(
                    status=Status.ERROR.value,
                    finished_at=utcnow(),
                    error=f"grading was interrupted {max_attempts} times; giving up",
                )
            )
        session.execute(
            update(Submission)
            .where(Submission.status == Status.RUNNING.value)
            .values(status=Status.QUEUED.value, started_at=None)
        )
        session.commit()
    return [sid for sid, attempts in rows if attempts < max_attempts]
