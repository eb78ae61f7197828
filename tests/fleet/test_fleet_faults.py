"""Faults while gradings are in flight: every accepted submission still completes, once.

"Once" is counted outside the database: each grading node logs one line per grading started
and one per result stored (``Tally``). A result is stored exactly once per submission; a
grading is started again only when the node grading it died (its attempt never stored).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from tests.api.conftest import assert_error, submit
from tests.fleet.conftest import Fleet, FleetFactory, final_all
from tests.fleet.services import Worker

pytestmark = [pytest.mark.fleet, pytest.mark.slow]


def _submit_many(client: httpx.Client, slug: str, count: int) -> list[str]:
    """``count`` accepted submissions of ``slug``'s reference."""
    ids = []
    for _ in range(count):
        response = submit(client, slug)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def _wait_grading(worker: Worker, timeout: float = 60) -> None:
    """Return once ``worker`` has started a grading."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "grading " in worker.text():
            return
        time.sleep(0.05)
    raise AssertionError(f"the worker graded nothing:\n{worker.log()}")


def _assert_once(fleet: Fleet, finals: list[dict[str, Any]], ids: list[str]) -> None:
    """All completed and passed; each result stored once; no attempt graded twice."""
    assert [f["status"] for f in finals] == ["completed"] * len(ids), fleet.logs()
    assert all(f["report"]["status"] == "passed" for f in finals)
    tally = fleet.tally()
    assert {i: tally.stored[i] for i in ids} == dict.fromkeys(ids, 1), fleet.logs()
    assert tally.no_attempt_twice()
    assert set(fleet.statuses()) == {"completed"}  # nothing stuck running or queued


def test_sigkill_a_worker_its_gradings_are_regraded_elsewhere(fleet_factory: FleetFactory
                                                              ) -> None:
    fleet = fleet_factory(api_nodes=1, workers=3, concurrency=2, lease_seconds=5)
    with fleet.apis[0].client(fleet.key("kill-worker")) as client:
        ids = _submit_many(client, "slow", 12)
        _wait_grading(fleet.workers[0])
        fleet.workers[0].kill()
        finals = final_all(client, ids)
    _assert_once(fleet, finals, ids)
    tally = fleet.tally()
    regraded = [i for i in ids if tally.started[i] == 2]
    assert regraded, "the killed worker's gradings were graded again elsewhere"
    assert all(f["attempts"] == 2 for f in finals if f["id"] in regraded)


def test_sigkill_an_api_node_loses_nothing_accepted(fleet_factory: FleetFactory) -> None:
    fleet = fleet_factory(api_nodes=2, workers=2, concurrency=2)
    token = fleet.key("kill-api")
    accepted: list[str] = []
    stop = threading.Event()

    def keep_submitting() -> None:
        """Submit to node 0 until it dies; remember every id that got a 202."""
        with fleet.apis[0].client(token, timeout=5) as client:
            while not stop.is_set():
                try:
                    response = submit(client, "echo")
                except httpx.TransportError:
                    return
                if response.status_code == 202:
                    accepted.append(response.json()["id"])

    feeder = threading.Thread(target=keep_submitting)
    feeder.start()
    deadline = time.monotonic() + 60
    while len(accepted) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    fleet.apis[0].kill()
    stop.set()
    feeder.join(30)
    assert len(accepted) >= 10
    with fleet.apis[1].client(token) as client:
        finals = final_all(client, accepted)
        stored = [s["id"] for s in client.get("/v1/submissions", params={"limit": 100}
                                              ).json()["data"]]
        # The request cut off by the kill may have been stored (then it is graded too).
        unanswered = sorted(set(stored) - set(accepted))
        assert len(unanswered) <= 1 and set(accepted) <= set(stored)
        finals += final_all(client, unanswered)
    _assert_once(fleet, finals, accepted + unanswered)


def _wait_status(fleet: Fleet, status: str, count: int, timeout: float = 60) -> None:
    """Return once at least ``count`` submissions are in ``status`` (read in the database)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fleet.statuses().get(status, 0) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"not {count} {status} in {timeout} s: {fleet.statuses()}\n{fleet.logs()}")


def _wait_acked_in_vain(fleet: Fleet, graded: int, timeout: float = 60) -> None:
    """Return once ``graded`` results are stored and every node failed to acknowledge one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = sum(fleet.tally().stored.values())
        if stored >= graded and all("Couldn't ack" in w.text() for w in fleet.workers):
            return
        time.sleep(0.05)
    raise AssertionError(f"no {graded} gradings acknowledged in vain:\n{fleet.logs()}")


def test_redis_restart_while_grading_and_accepting(fleet_factory: FleetFactory) -> None:
    # Redis stays down until the gradings it interrupted are stored, so every grading slot of
    # both nodes is acknowledged while Redis is away. Those acknowledgements fail; the nodes
    # must still take the next messages once Redis is back (issue 12: with kombu's own Redis
    # transport a failed acknowledgement kept its prefetch slot taken for good).
    fleet = fleet_factory(api_nodes=2, workers=2, concurrency=2)
    with fleet.apis[0].client(fleet.key("redis")) as client:
        ids = _submit_many(client, "slow", 8)
        _wait_status(fleet, "running", 4)  # both nodes' two slots
        fleet.backends.stop_redis()
        try:
            ids += _submit_many(client, "echo", 3)  # accepted while Redis is down
            _wait_acked_in_vain(fleet, 4)
        finally:
            fleet.backends.start_redis()
        ids += _submit_many(client, "echo", 3)  # accepted as Redis comes back
        finals = final_all(client, ids)
    _assert_once(fleet, finals, ids)


def test_postgres_outage_answers_503_then_everything_completes(fleet_factory: FleetFactory
                                                                ) -> None:
    # Leases as in production (30 s): an outage shorter than a lease costs no regrading.
    fleet = fleet_factory(api_nodes=2, workers=2, concurrency=2, lease_seconds=30)
    token = fleet.key("postgres")
    with fleet.apis[0].client(token) as client, fleet.apis[1].client(token) as other:
        ids = _submit_many(client, "slow", 8)
        _wait_grading(fleet.workers[0])
        fleet.backends.stop_postgres()
        try:
            outage = time.monotonic()
            time.sleep(1)
            down = other.get("/v1/submissions")
            assert_error(down, 503, "database_unavailable")
            assert int(down.headers["retry-after"]) >= 1
            assert_error(client.get(f"/v1/submissions/{ids[0]}"), 503, "database_unavailable")
            assert client.get("/readyz").status_code == 503
            time.sleep(max(0.0, 12 - (time.monotonic() - outage)))
        finally:
            fleet.backends.start_postgres()
        finals = final_all(client, ids)
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert client.get("/readyz").json()["status"] == "ready"
    _assert_once(fleet, finals, ids)
    tally = fleet.tally()
    assert {i: tally.started[i] for i in ids} == dict.fromkeys(ids, 1)  # nothing regraded


def test_all_workers_stopped_then_started_the_queue_drains(fleet_factory: FleetFactory) -> None:
    fleet = fleet_factory(api_nodes=2, workers=2, concurrency=2)
    token = fleet.key("drain")
    for worker in fleet.workers:
        assert worker.stop() == 0
    with fleet.apis[0].client(token) as one, fleet.apis[1].client(token) as two:
        ids = _submit_many(one, "echo", 6) + _submit_many(two, "echo", 6)
        time.sleep(3)
        assert fleet.statuses() == {"queued": 12}
        for worker in fleet.workers:
            worker.start()
        finals = final_all(two, ids)
    _assert_once(fleet, finals, ids)
    assert {i: fleet.tally().started[i] for i in ids} == dict.fromkeys(ids, 1)


POISON = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"


def test_poisoned_submission_ends_as_error_and_does_not_block_the_queue(
        fleet_factory: FleetFactory) -> None:
    # One grading per node, so the poison takes no other grading down with it; dead nodes
    # are started again, as a supervisor (Kubernetes, compose) would.
    fleet = fleet_factory(api_nodes=1, workers=2, concurrency=1, max_attempts=3,
                          lease_seconds=5)
    stop = threading.Event()

    def supervise() -> None:
        while not stop.wait(0.5):
            for worker in fleet.workers:
                if not worker.alive():
                    worker.start()

    supervisor = threading.Thread(target=supervise)
    supervisor.start()
    try:
        with fleet.apis[0].client(fleet.key("poison")) as client:
            poison = submit(client, "echo", {"echo.py": POISON}).json()["id"]
            ids = _submit_many(client, "echo", 6)
            finals = final_all(client, ids)
            poisoned = final_all(client, [poison])[0]
    finally:
        stop.set()
        supervisor.join(10)
    assert poisoned["status"] == "error" and poisoned["attempts"] == 3
    assert poisoned["error"] == "grading was interrupted 3 times; giving up"
    assert [f["status"] for f in finals] == ["completed"] * len(ids), fleet.logs()
    tally = fleet.tally()
    assert tally.started[poison] == 3 and tally.stored[poison] == 0
    assert {i: tally.stored[i] for i in ids} == dict.fromkeys(ids, 1)
