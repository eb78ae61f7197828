"""The HTTP server's connection deadlines: idle, slow-header and stalled-body clients are cut off.

uvicorn closes an idle kept-alive connection (``timeout_keep_alive``) but waits for ever on a
client that connects and sends nothing, sends its headers a byte at a time (slowloris), or
stops in the middle of a body. :func:`protocol_with_deadlines` gives uvicorn an h11 protocol
that closes such connections: the headers of each request must arrive within
``header_timeout`` seconds of the connection (or of the previous response), the body within
``body_timeout`` seconds of the headers. A closed stalled body reaches the app as a
disconnect. Responses, however long (event streams), are not limited.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("api.http")


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with header and body deadlines (class attributes, set by
    :func:`protocol_with_deadlines`)."""

    header_timeout = 10.0
    body_timeout = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection: its first request's headers are due."""
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Gone: no deadline left."""
        self._cancel_header()
        self._cancel_body()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        """Process what arrived, then move the deadlines with the request's progress."""
        super().handle_events()
        self._arm()

    def on_response_complete(self) -> None:
        """A response is out: the next request's headers are due (pipelining aside)."""
        super().on_response_complete()
        self._arm()

    def _arm(self) -> None:
        """The deadline that matches where the client is in its request."""
        state = self.conn.their_state
        if state is h11.IDLE:
            self._cancel_body()
            if self._header_timer is None and not self.transport.is_closing():
                self._header_timer = self.loop.call_later(
                    self.header_timeout, self._expire, "headers"
                )
        elif state is h11.SEND_BODY:
            self._cancel_header()
            if self._body_timer is None:
                self._body_timer = self.loop.call_later(self.body_timeout, self._expire, "body")
        else:  # the request is in (or the connection is ending): no deadline
            self._cancel_header()
            self._cancel_body()

    def _expire(self, what: str) -> None:
        """A deadline passed: close the connection if the client is still that late."""
        state = self.conn.their_state
        late = (what == "headers" and state is h11.IDLE) or (
            what == "body" and state is h11.SEND_BODY
        )
        if what == "headers":
            self._header_timer = None
        else:
            self._body_timer = None
        if late and not self.transport.is_closing():
            log.info("closing a connection whose request %s did not arrive in time", what)
            self.transport.close()

    def _cancel_header(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _cancel_body(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None


def protocol_with_deadlines(header_timeout: float, body_timeout: float) -> type[H11Protocol]:
    """The protocol class for ``uvicorn.run(http=...)`` with these deadlines, in seconds."""
    return type(
        "GraderH11Protocol",
        (DeadlineH11Protocol,),
        {"header_timeout": header_timeout, "body_timeout": body_timeout},
    )
