"""Crashes and restarts: a submission that got its ``202`` is always graded in the end."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from tests.api.conftest import Server, ServerFactory, submit, wait_final

pytestmark = pytest.mark.slow

#: Exit statuses of a clean stop: uvicorn re-raises SIGTERM once it has shut down.
STOPPED = (0, -signal.SIGTERM)


def _wait_for_running(client: httpx.Client, timeout: float = 60) -> None:
    """Return once some submission is being graded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/v1/submissions", params={"status": "running"}).json()["count"]:
            return
        time.sleep(0.05)
    raise AssertionError("nothing started running")


def _restart(old: Server, server_factory: ServerFactory, **kwargs: object) -> Server:
    """A new server process on the old one's database."""
    return server_factory("restarted", database_url=old.database_url, **kwargs).start()


def test_sigkill_while_grading_then_restart_loses_nothing(server_factory: ServerFactory) -> None:
    # Short leases: what the killed process was grading is regraded 5 s after, not 30.
    first = server_factory(workers=2, rate_burst=1000, rate_per_minute=6000,
                           max_queued_per_key=1000, lease_seconds=5, sweep_interval=1).start()
    token = first.key("crash")
    accepted: list[str] = []
    stop = threading.Event()

    def keep_submitting() -> None:
        """Submit until the server dies; remember every id that got a 202."""
        with first.client(token, timeout=5) as client:
            while not stop.is_set():
                try:
                    response = submit(client, "echo")
                except httpx.TransportError:
                    return
                if response.status_code == 202:
                    accepted.append(response.json()["id"])

    with first.client(token) as client:
        accepted += [submit(client, "slow").json()["id"] for _ in range(4)]
        feeder = threading.Thread(target=keep_submitting)
        feeder.start()
        _wait_for_running(client)
        time.sleep(0.3)
        first.kill()
    stop.set()
    feeder.join(30)
    assert len(accepted) > 4

    second = _restart(first, server_factory, workers=2, lease_seconds=5, sweep_interval=1)
    with second.client(token) as client:
        finals = [wait_final(client, i, timeout=180) for i in accepted]
        stored = _all_ids(client)
        # Requests cut off by the crash may or may not have been stored; those that were
        # are graded too. Nothing is stored twice.
        unanswered = [wait_final(client, i) for i in set(stored) - set(accepted)]
    assert [f["status"] for f in finals] == ["completed"] * len(accepted)
    assert all(f["report"]["status"] == "passed" for f in finals)
    assert any(f["attempts"] == 2 for f in finals), "a grading in progress was re-run"
    assert len(stored) == len(set(stored)) and set(accepted) <= set(stored)
    assert len(unanswered) <= 1 and all(f["status"] == "completed" for f in unanswered)
    second.stop()


def _all_ids(client: httpx.Client) -> list[str]:
    """Every submission id of the caller, through all pages."""
    ids: list[str] = []
    while True:
        page = client.get("/v1/submissions", params={"limit": 100, "offset": len(ids)}).json()
        ids += [s["id"] for s in page["data"]]
        if len(ids) >= page["count"] or not page["data"]:
            return ids


def test_sigterm_lets_running_gradings_finish(server_factory: ServerFactory) -> None:
    first = server_factory(workers=1).start()
    token = first.key("graceful")
    with first.client(token) as client:
        ids = [submit(client, "slow").json()["id"] for _ in range(3)]
        _wait_for_running(client)
    started = time.monotonic()
    assert first.stop() in STOPPED
    assert time.monotonic() - started < 20
    second = _restart(first, server_factory, workers=1)
    with second.client(token) as client:
        finals = [wait_final(client, i) for i in ids]
    assert [f["status"] for f in finals] == ["completed"] * 3
    assert [f["attempts"] for f in finals] == [1, 1, 1]  # the running one was not cut short
    second.stop()


def test_sigterm_without_grace_requeues_running_work(server_factory: ServerFactory) -> None:
    first = server_factory(workers=1, shutdown_grace=0).start()
    token = first.key("hasty")
    with first.client(token) as client:
        ids = [submit(client, "slow").json()["id"] for _ in range(2)]
        _wait_for_running(client)
    assert first.stop() in STOPPED
    assert "requeueing 1 unfinished grading" in first.log()
    second = _restart(first, server_factory, workers=1)
    with second.client(token) as client:
        finals = [wait_final(client, i) for i in ids]
    assert [f["status"] for f in finals] == ["completed"] * 2
    second.stop()
