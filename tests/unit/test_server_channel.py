"""The subject server's channel polls briefly before it blocks, except around measured costs."""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time
from typing import Any

import pytest

from grader.bridge import server_channel, wire
from grader.bridge.proxy import BridgeSide, FollowingProxy
from grader.bridge.server_channel import Channel
from grader.bridge.subject_server import Mailbox
from grader.testkit import Kit

from .bridged import bridged


def _channel_pair(spin: float) -> tuple[Channel, socket.socket]:
    """A server channel on one end of a socket pair (both fds on that one socket, as in a
    container with a socket channel), and the harness's end."""
    server, harness = socket.socketpair()
    fd = server.detach()
    return Channel(fd, os.dup(fd), spin=spin), harness


def test_a_frame_that_comes_late_is_still_read_whole() -> None:
    channel, harness = _channel_pair(spin=0.0002)
    threading.Timer(0.1, lambda: harness.sendall(wire.frame_for_subject({"id": 1, "op": "x"}))).start()
    assert channel.receive() == {"id": 1, "op": "x"}  # polled, then waited in select
    harness.close()
    with pytest.raises(EOFError):
        channel.receive()


def test_a_large_answer_goes_out_whole_although_the_socket_does_not_block() -> None:
    channel, harness = _channel_pair(spin=0.0002)
    big = {"id": 2, "ok": "x" * ((4 << 20) - 100)}  # far more than a socket buffer holds
    sender = threading.Thread(target=channel.send, args=(big,))
    sender.start()
    time.sleep(0.2)  # the buffer fills: the sender meets a full socket, then waits for room
    harness.settimeout(10)  # a sender that gave up must fail the test, not hang it
    data = bytearray()
    expected = len(wire.frame(big))
    while len(data) < expected:
        data += harness.recv(1 << 16)
    sender.join(5)
    assert wire.parse(bytes(data[wire.HEADER_SIZE :])) == big


def _counted_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Channel, socket.socket, Mailbox, list[float]]:
    """A mailbox on a channel that polls for 0.05 s, and the polling time of each read it
    makes from now on."""
    channel, harness = _channel_pair(spin=0.05)
    reads: list[float] = []
    real_read = os.read

    def counted(fd: int, n: int) -> bytes:
        reads.append(channel.poller.seconds)
        return real_read(fd, n)

    monkeypatch.setattr(server_channel.os, "read", counted)
    return channel, harness, Mailbox(channel, lambda _sync: None), reads


def test_a_quiet_request_stops_the_polling_until_the_next_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel, harness, mailbox, reads = _counted_reads(monkeypatch)
    harness.sendall(wire.frame_for_subject({"id": 1, "op": "call", "quiet": True}))
    assert mailbox.next_request()["id"] == 1
    assert channel.poller.seconds == 0.0
    reads.clear()
    threading.Timer(0.2, lambda: harness.sendall(wire.frame_for_subject({"id": 2, "op": "call"}))).start()
    assert mailbox.next_request()["id"] == 2
    # While quiet, the wait was one look and then select: no polling (that would be tens of
    # thousands of reads in 0.05 s).
    assert len(reads) <= 4, len(reads)
    assert channel.poller.seconds == 0.05  # an ordinary request: polling again
    harness.close()


def test_a_measured_cost_sees_the_call_it_measures() -> None:
    """Polling keeps the subject running, and a running process's CPU counter lags; so a
    cost is measured with the subject at rest before and after (``Subject.quiesce`` and a
    quiet request). Without that, a small batch measured as costing nothing at all."""
    source = b"def same(x):\n    return x\n"
    with bridged("tiny", source, 60) as bridge:
        kit: Any = Kit(BridgeSide([bridge]))
        module: Any = FollowingProxy(bridge)
        costs = []
        for _ in range(15):
            module.same(1)  # an ordinary call: the subject polls after answering it
            costs.append(kit.cost(module.same, [(1,)] * 20))
        assert 0.0 < statistics.median(costs) < 0.05, costs


def test_a_hush_stops_the_polling_at_once_until_the_next_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cost is read with the subject at rest: the harness hushes a subject that polls
    after its last answer instead of waiting the polling out (``Subject.quiesce``)."""
    channel, harness, mailbox, reads = _counted_reads(monkeypatch)
    harness.sendall(wire.frame_for_subject({"id": 1, "op": "call"}))
    assert mailbox.next_request()["id"] == 1
    assert channel.poller.seconds == 0.05
    harness.sendall(wire.frame_for_subject({"hush": True}))
    reads.clear()
    threading.Timer(0.2, lambda: harness.sendall(wire.frame_for_subject({"id": 2, "op": "call"}))).start()
    assert mailbox.next_request()["id"] == 2  # the hush is no request
    # After the hush one look and then select: no polling for the rest of the 0.2 s.
    assert len(reads) <= 6, len(reads)
    assert channel.poller.seconds == 0.05
    harness.close()


def test_the_harness_hushes_only_a_subject_that_may_be_polling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = b"def same(x):\n    return x\n"
    with bridged("tiny", source, 60) as bridge:
        subject = bridge.subject
        kit: Any = Kit(BridgeSide([bridge]))
        module: Any = FollowingProxy(bridge)
        sent: list[dict[str, Any]] = []
        real_send = subject.send

        def recorded(message: dict[str, Any]) -> None:
            sent.append(message)
            real_send(message)

        monkeypatch.setattr(subject, "send", recorded)
        module.same(1)  # an ordinary request: the subject polls after answering it
        subject.quiesce()
        subject.quiesce()
        assert [m for m in sent if "hush" in m] == [{"hush": True}]
        kit.cost(module.same, [(1,)] * 5)  # hushed already: the measured request is quiet
        assert [m for m in sent if "hush" in m] == [{"hush": True}]
        assert sent[-1].get("quiet") is True
        module.same(1)
        kit.cost(module.same, [(1,)] * 5)
        assert [m for m in sent if "hush" in m] == [{"hush": True}] * 2
