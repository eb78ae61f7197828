"""Database tables: API keys and submissions (SQLAlchemy 2 declarative models)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC."""
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read UTC back as an aware datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


class Status(StrEnum):
    """Where a submission is in its life: stored (``received``), handed to the queue
    (``queued``), leased by a grading worker (``running``), then final."""

    RECEIVED = "received"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"


#: Statuses a submission never leaves.
FINAL = frozenset({Status.COMPLETED, Status.ERROR})
#: Statuses of a submission waiting for a grading worker.
WAITING = frozenset({Status.RECEIVED, Status.QUEUED})


class Base(DeclarativeBase):
    """Root of the service's tables."""


class ApiKey(Base):
    """An API key: only the SHA-256 of its token is stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Admin keys may use the operator view (every submission, the queue, the workers).
    admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Submission(Base):
    """One submission: what was sent, where its grading is, and the reports once done."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("owner", "idempotency_key", name="uq_submissions_owner_idempotency"),
        Index("ix_submissions_owner_created", "owner", "created_at"),
        Index("ix_submissions_status_created", "status", "created_at"),
        Index("ix_submissions_status_lease", "status", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The key id, or "open" in open mode; no foreign key so open mode needs no key row.
    owner: Mapped[str] = mapped_column(String(32))
    exercise: Mapped[str] = mapped_column(String(100))
    files: Mapped[str] = mapped_column(Text)  # JSON object {file name: text}
    status: Mapped[str] = mapped_column(String(16), default=Status.QUEUED.value)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    request_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The grading process that holds attempt ``attempts`` while running, and until when; only
    # that holder may store its result (see api/store.py).
    lease_owner: Mapped[str | None] = mapped_column(String(120), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # When it was last handed to the queue (None: not yet, e.g. the broker was down).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    result: Mapped[str | None] = mapped_column(String(16), default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    max_score: Mapped[float | None] = mapped_column(Float, default=None)
    report: Mapped[str | None] = mapped_column(Text, default=None)  # public report JSON
    full_report: Mapped[str | None] = mapped_column(Text, default=None)  # operators only
