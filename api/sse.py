"""A submission's progress as server-sent events, sent with ``sse-starlette``.

The library writes the events, pings an idle stream and stops the generator when the client
disconnects or the server shuts down; this module decides what the events are.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.models import FINAL
from api.notify import Notifier
from api.schemas import SubmissionPublic
from api.services import Services
from api.views import RECHECK, STREAM_LIMIT, load_view

#: Seconds between keep-alive comments on an event stream (proxies drop silent connections).
KEEPALIVE = 15.0
#: Line separator of the events (plain ``\n``, as ``curl -N`` users expect).
SEPARATOR = "\n"


def status_event(number: int, view: SubmissionPublic) -> ServerSentEvent:
    """The ``status`` event number ``number``: the submission as JSON."""
    return ServerSentEvent(
        data=view.model_dump_json(), event="status", id=str(number), sep=SEPARATOR
    )


def keepalive() -> ServerSentEvent:
    """The comment that keeps an idle stream open."""
    return ServerSentEvent(comment="keep-alive", sep=SEPARATOR)


async def status_events(
    notifier: Notifier,
    first: SubmissionPublic,
    reload: Callable[[], Awaitable[SubmissionPublic]],
) -> AsyncIterator[ServerSentEvent]:
    """A ``status`` event whenever the status or queue position changes; ends when final.

    ``reload`` reads the submission again; ``notifier`` says when it may have changed (the
    view is also reread every ``RECHECK`` seconds, which keeps the queue position fresh).
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    view, shown, number = first, None, 0
    with notifier.subscribe(first.id) as changed:
        while True:
            if (view.status, view.queue_position) != shown:
                number += 1
                shown = (view.status, view.queue_position)
                yield status_event(number, view)
            if view.status in FINAL or loop.time() - started > STREAM_LIMIT:
                return
            changed.clear()  # before reading, so a change during the read is not missed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=RECHECK)
            view = await reload()


def event_source(
    events: AsyncIterator[ServerSentEvent], ping: float = KEEPALIVE
) -> EventSourceResponse:
    """The streaming response for ``events``, with keep-alive comments every ``ping`` s."""
    return EventSourceResponse(events, ping=ping, sep=SEPARATOR, ping_message_factory=keepalive)


def submission_events_response(
    services: Services, owner: str, first: SubmissionPublic
) -> EventSourceResponse:
    """The event stream of ``owner``'s submission ``first`` (already loaded, so a 404 is
    answered before the stream starts)."""

    async def reload() -> SubmissionPublic:
        return await run_in_threadpool(load_view, services, owner, first.id)

    return event_source(status_events(services.notifier, first, reload))
