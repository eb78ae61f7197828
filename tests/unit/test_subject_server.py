"""The subject server's request loop (``grader.bridge.subject_server.Server``)."""

from __future__ import annotations

import weakref
from typing import Any, cast

from grader.bridge.proxy import FollowingProxy
from grader.bridge.server_channel import Channel
from grader.bridge.subject_server import GC_YOUNG_THRESHOLD, Server

from .bridged import bridged


class Payload:
    """Something a request holds that a weak reference can watch."""


class ScriptedMailbox:
    """Hands out one request, then records what is still alive when the next is asked for."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.request: dict[str, Any] | None = request
        self.sent: list[dict[str, Any]] = []
        self.alive_at_next_wait: bool | None = None
        self.watch: weakref.ref[Payload] | None = None

    def next_request(self) -> dict[str, Any]:
        if self.request is not None:
            request, self.request = self.request, None
            return request
        assert self.watch is not None
        self.alive_at_next_wait = self.watch() is not None
        raise EOFError

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


def test_a_request_is_freed_before_the_server_waits_for_the_next() -> None:
    """A batch's arguments and results are freed before the next request is read, so their
    freeing is not counted in the next request's measured cost (``kit.cost``)."""
    payload = Payload()
    mailbox = ScriptedMailbox({"id": 1, "op": "call_each", "args_list": [payload]})
    mailbox.watch = weakref.ref(payload)
    del payload
    server = Server(cast(Channel, None))
    server.mailbox = mailbox  # type: ignore[assignment]
    server.serve()
    assert mailbox.sent and mailbox.sent[0]["id"] == 1  # answered (a malformed request)
    assert mailbox.alive_at_next_wait is False


def test_the_served_submission_runs_with_fewer_collections_and_nothing_frozen() -> None:
    """The subject server collects its young generation every ``GC_YOUNG_THRESHOLD``
    allocations, as the harness child does, and freezes nothing: frozen objects would be
    hidden from ``gc.get_objects``, which the tampering checks' submissions rely on."""
    source = b"import gc\ndef state():\n    return [gc.get_threshold()[0], gc.get_freeze_count()]\n"
    with bridged("gcstate", source, 60) as bridge:
        module: Any = FollowingProxy(bridge)
        assert module.state() == [GC_YOUNG_THRESHOLD, 0]
