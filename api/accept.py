"""Accepting a submission: check it, apply the caller's limits, store it, then queue it."""

from __future__ import annotations

import math
from collections.abc import Mapping

from sqlalchemy.orm import Session

from api import store
from api.errors import ApiError
from api.files import check_files
from api.keys import Caller
from api.models import Submission
from api.services import Services


def accept_submission(
    services: Services,
    session: Session,
    caller: Caller,
    exercise: str,
    files: Mapping[str, str | bytes],
    idempotency_key: str | None,
) -> tuple[Submission, bool]:
    """Store a submission as queued and queue it; ``(row, created)``.

    A retry with the same ``Idempotency-Key`` gets the original submission back (and costs
    nothing against the limits); the same key with a different request is a ``409``.
    """
    module = services.exercise(exercise).meta.module
    texts = check_files(files, module)
    new = store.NewSubmission(
        owner=caller.id, exercise=exercise, files=texts, idempotency_key=idempotency_key
    )
    if idempotency_key is not None:
        existing = store.find_idempotent(session, caller.id, idempotency_key)
        if existing is not None:
            return _same_request(existing, new), False
    _check_limits(services, session, caller)
    # Stored (and committed) before it is queued or answered: a crash after this point
    # leaves a queued row that the next start-up picks up.
    row, created = store.insert(session, new)
    if not created:
        return _same_request(row, new), False
    services.queue.enqueue(row.id)
    services.metrics.accepted()
    return row, True


def _same_request(existing: Submission, new: store.NewSubmission) -> Submission:
    """``existing`` if ``new`` repeats its request, else a ``409``."""
    if existing.request_hash != new.request_hash:
        raise ApiError(
            409,
            "idempotency_conflict",
            "this Idempotency-Key was already used for a different request",
            {"submission": existing.id},
        )
    return existing


def _check_limits(services: Services, session: Session, caller: Caller) -> None:
    """The cap on unfinished submissions, then the rate limit: ``429`` with ``Retry-After``."""
    settings = services.settings
    unfinished = store.count_unfinished(session, caller.id)
    if unfinished >= settings.max_queued_per_key:
        services.metrics.rejected("too_many_queued")
        raise ApiError(
            429,
            "too_many_queued",
            f"{unfinished} submissions are still queued or running for this key "
            f"(limit {settings.max_queued_per_key}); wait for some to finish",
            {"limit": settings.max_queued_per_key},
            headers={"Retry-After": "5"},
        )
    wait = services.limiter.acquire(caller.id)
    if wait > 0:
        services.metrics.rejected("rate_limited")
        retry_after = max(1, math.ceil(wait))
        raise ApiError(
            429,
            "rate_limited",
            f"too many submissions; try again in {retry_after} s",
            {
                "retry_after": retry_after,
                "per_minute": settings.rate_per_minute,
                "burst": settings.rate_burst,
            },
            headers={"Retry-After": str(retry_after)},
        )
