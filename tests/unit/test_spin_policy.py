"""Polling the bridge only while it costs nobody a CPU: a grading polls when this process runs
few enough gradings for each to have a core for its harness and one for its subject, and
otherwise neither end polls (``sandbox.polling``, ``grader.harness.supervisor.GRADINGS``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from grader.bridge import wire
from grader.bridge.client import Subject
from grader.harness.supervisor import _Gradings
from sandbox import polling
from sandbox.errors import SandboxTimeout


@pytest.fixture
def no_spinning() -> Iterator[None]:
    polling.set_spinning(False)
    yield
    polling.set_spinning(True)


@pytest.mark.parametrize(("running", "cpus", "polls"), [(1, 2, True), (2, 2, False), (2, 4, True)])
def test_a_grading_polls_only_with_two_cores_of_its_own(
    monkeypatch: pytest.MonkeyPatch, running: int, cpus: int, polls: bool
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: cpus)
    gradings = _Gradings()
    for _ in range(running):
        gradings.__enter__()
    assert gradings.leave_cores_to_poll() is polls


def test_a_poller_of_a_process_that_does_not_spin_never_polls(no_spinning: None) -> None:
    tries: list[int] = []

    def attempt() -> bytes:
        tries.append(1)
        raise BlockingIOError

    assert polling.Poller(seconds=0.05).poll(attempt) is None
    assert len(tries) == 1  # looked once, then left the waiting to the caller


class AnsweringRun:
    """A subject's run that answers every request with ``None`` and keeps what it was sent."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._out = b""

    def send(self, data: bytes, timeout: float | None = None) -> None:
        request = wire.parse_from_harness(data[wire.HEADER_SIZE :])
        self.requests.append(request)
        self._out += wire.frame({"id": request["id"], "ok": None})

    def recv(self, n: int = 65536, timeout: float | None = None) -> bytes:
        if not self._out:
            raise SandboxTimeout("nothing")
        data, self._out = self._out[:n], self._out[n:]
        return data


def test_a_harness_that_does_not_spin_asks_the_subject_not_to_either(no_spinning: None) -> None:
    subject = Subject(lambda: pytest.fail("not started"), import_timeout=5)
    run = AnsweringRun()
    subject.run = run  # type: ignore[assignment]
    subject.request("len", obj={"$h": 1})
    assert run.requests[0]["quiet"] is True


def test_a_spinning_harness_lets_the_subject_poll() -> None:
    subject = Subject(lambda: pytest.fail("not started"), import_timeout=5)
    run = AnsweringRun()
    subject.run = run  # type: ignore[assignment]
    subject.request("len", obj={"$h": 1})
    assert "quiet" not in run.requests[0]
