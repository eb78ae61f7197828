"""A subject taken over from another owner (a resident reference, ``grader.harness.resident``):
the reset forgets everything of the last borrower, and only a subject left as a fresh one is
given back clean. The subject here runs in a process sandbox; its owner lends it to a second
``Subject`` through a run that, like ``sandbox.docker_adopted.AdoptedRun``, never ends it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.bridge.client import Subject
from grader.bridge.errors import ProtocolViolation
from grader.bridge.proxy import Bridge, FollowingProxy
from grader.harness.forks import ForkServer
from grader.harness.isolated import subject_job
from sandbox import ProcessSandbox, SandboxLimits, SandboxResult, SandboxRun

SOURCE = b"""\
import threading, time

class Box:
    def __init__(self, value):
        self.value = value

def keep_a_thread_running():
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
"""


class LentRun:
    """The owner's run as a borrower sees it: the same channel, an end that lets go only."""

    def __init__(self, run: SandboxRun) -> None:
        self.run = run
        self.ended = self.killed = False

    def send(self, data: bytes, timeout: float | None = None) -> None:
        self.run.send(data, timeout)

    def recv(self, n: int = 65536, timeout: float | None = None) -> bytes:
        return self.run.recv(n, timeout)

    def cpu_usage(self, settle: float = 0.0) -> float | None:
        return None

    def end(self, grace: float = 1.0) -> SandboxResult:
        self.ended = True
        return SandboxResult(exit_code=None, signal=None)

    def kill(self) -> SandboxResult:
        self.killed = True
        return self.run.kill()


@pytest.fixture
def owner() -> Iterator[Subject]:
    """The owner's subject, started and idle."""
    backend = ProcessSandbox()
    job = subject_job("boxes", SOURCE, SandboxLimits(wall_timeout=60))
    subject = Subject(lambda: backend.start(job), import_timeout=15)
    subject.start()
    yield subject
    subject.close()
    backend.close()


def borrow(owner: Subject) -> tuple[Subject, LentRun]:
    """A second subject that has adopted the owner's run (and must have)."""
    assert owner.run is not None
    lent = LentRun(owner.run)
    borrower = Subject(lambda: pytest.fail("no fresh start expected"), import_timeout=15)
    assert borrower.adopt(lent)  # type: ignore[arg-type]
    return borrower, lent


def test_a_borrower_finds_the_subject_as_freshly_imported(owner: Subject) -> None:
    """What one borrower made is gone for the next: its handles are unknown after the reset,
    and the module has its first handle again, as after the import."""
    first, _ = borrow(owner)
    first.begin_test(10)
    module: Any = FollowingProxy(Bridge(first))
    box = module.Box(41)
    assert box.value == 41
    stale = object.__getattribute__(box, "_bridge_id")
    assert stale > 2  # neither the module nor its type
    assert first.give_back()
    second, lent = borrow(owner)
    assert second.module_ref == owner.module_ref  # handle 1, as the import described it
    second.begin_test(10)
    with pytest.raises(ProtocolViolation, match="unknown object reference"):
        second.request("getattr", obj={"$h": stale}, name="value")
    assert second.give_back() and not lent.killed  # a refused handle leaves nothing behind


def test_a_subject_given_back_clean_is_let_go_not_ended(owner: Subject) -> None:
    """A clean give-back ends only the borrower's hold: the owner's process still answers."""
    borrower, lent = borrow(owner)
    assert borrower.give_back()
    assert lent.ended and not lent.killed and borrower.run is None
    assert owner.run is not None and not owner.run.done
    again, _ = borrow(owner)  # and it can be lent again
    assert again.give_back()


def test_a_subject_left_with_a_thread_running_is_not_given_back_clean(owner: Subject) -> None:
    """A thread still running could reach the next borrower: such a subject is killed."""
    borrower, lent = borrow(owner)
    borrower.begin_test(10)
    module: Any = FollowingProxy(Bridge(borrower))
    module.keep_a_thread_running()
    borrower.end_test()
    assert not borrower.give_back()
    assert lent.killed


def test_a_subject_that_does_not_answer_the_reset_is_not_adopted(owner: Subject) -> None:
    """A lent subject that is gone is not used: ``adopt`` says so, and the caller starts a
    fresh one."""
    assert owner.run is not None
    owner.run.kill()
    lent = LentRun(owner.run)
    borrower = Subject(lambda: pytest.fail("not started here"), import_timeout=15)
    assert not borrower.adopt(lent)  # type: ignore[arg-type]
    assert borrower.run is None


def test_a_forked_child_keeps_a_descriptor_under_its_number() -> None:
    """A descriptor the grader passes (a resident's channel) reaches a forked harness child
    under the number the grader knows it by."""
    ours, theirs = socket.socketpair()
    target = os.dup(theirs.fileno())
    theirs.close()
    server = ForkServer()
    try:
        code = f"import os; os.write({target}, b'kept')"
        with open(os.devnull, "wb") as out:
            child = server.spawn(["-c", code], Path("/"), out.fileno(), False, (target,))
            assert child.wait(30) == 0
        ours.settimeout(5)
        assert ours.recv(16) == b"kept"
    finally:
        server.close()
        os.close(target)
        ours.close()
