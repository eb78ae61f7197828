"""Accepting a submission: check it, apply the caller's limits, store it, then queue it.

The row is committed (``received``) before the queue hears of it and before the ``202``: if
handing it to the queue fails, it is still accepted and the sweeper queues it later.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from sqlalchemy.orm import Session

from api import store
from api.dispatch import hand_over
from api.errors import ApiError
from api.files import check_files
from api.keys import Caller
from api.models import Submission
from api.services import Services

log = logging.getLogger("api")


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
    settings = services.settings
    try:
        row, created = store.insert(
            session,
            new,
            cap=settings.max_queued_per_key,
            admit=lambda: _check_rate(services, caller),
        )
    except store.CapReached as reached:
        services.metrics.rejected("too_many_queued")
        raise ApiError(
            429,
            "too_many_queued",
            f"{reached.count} submissions are still waiting or running for this key "
            f"(limit {settings.max_queued_per_key}); wait for some to finish",
            {"limit": settings.max_queued_per_key},
            headers={"Retry-After": "5"},
        ) from None
    if not created:
        return _same_request(row, new), False
    services.metrics.accepted()
    if hand_over(services.sessions, services.dispatcher, [row.id]):
        try:  # show where it is now (queued, or already running)
            session.refresh(row)
        except Exception as exc:  # stored and handed over: answer with what we have
            session.rollback()
            log.warning("could not reread %s: %s", row.id, type(exc).__name__)
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


def _check_rate(services: Services, caller: Caller) -> None:
    """The rate limit: ``429`` with ``Retry-After`` when the caller's bucket is empty.

    If the shared store of the limits (Redis) cannot answer, the submission is let through
    (the cap on unfinished submissions, kept in the database, still holds): a Redis restart
    must not stop a fleet from accepting work.
    """
    settings = services.settings
    try:
        wait = services.limiter.acquire(caller.id)
    except Exception as exc:
        log.warning("rate limit unavailable (%s); letting the submission through", exc)
        return
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
