"""Two API nodes and three grading nodes: 200 submissions, every one graded exactly once."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.conftest import submit
from tests.fleet.conftest import FleetFactory, final_all
from tests.fleet.services import Backends

pytestmark = pytest.mark.fleet

SUBMISSIONS = 200


def test_two_hundred_submissions_through_two_api_nodes_are_each_graded_once(
        fleet_factory: FleetFactory) -> None:
    fleet = fleet_factory(api_nodes=2, workers=3, concurrency=2)
    token = fleet.key("load")
    clients = [httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"},
                            timeout=60, limits=httpx.Limits(max_connections=20))
               for api in fleet.apis]
    try:
        round_robin = itertools.cycle(clients)
        targets = [next(round_robin) for _ in range(SUBMISSIONS)]
        with ThreadPoolExecutor(20) as pool:
            responses = list(pool.map(lambda c: submit(c, "echo"), targets))
        assert [r.status_code for r in responses] == [202] * SUBMISSIONS, responses[0].text
        ids = [r.json()["id"] for r in responses]
        assert len(set(ids)) == SUBMISSIONS
        # Read back through the other node than the one that took each submission.
        finals = final_all(clients[1], ids[0::2], timeout=300)
        finals += final_all(clients[0], ids[1::2], timeout=300)
    finally:
        for client in clients:
            client.close()
    assert [f["status"] for f in finals] == ["completed"] * SUBMISSIONS, fleet.logs()
    assert all(f["report"]["status"] == "passed" and f["attempts"] == 1 for f in finals)
    tally = fleet.tally()
    assert {i: tally.started[i] for i in ids} == dict.fromkeys(ids, 1), "graded twice or never"
    assert {i: tally.stored[i] for i in ids} == dict.fromkeys(ids, 1)
    assert sum(tally.started.values()) == SUBMISSIONS  # and nothing else was graded
    assert fleet.statuses() == {"completed": SUBMISSIONS}  # no row stuck running or queued
    assert all(w.text().count(" ready.") == 1 for w in fleet.workers)  # no node restarted
    assert sum(1 for w in fleet.workers if "grading " in w.text()) == 3  # all three graded


def test_progress_reaches_a_client_on_another_api_node(fleet_factory: FleetFactory,
                                                       fleet_backends: Backends) -> None:
    import redis

    fleet = fleet_factory(api_nodes=2, workers=1, concurrency=1)
    channel = f"{fleet.queue}:changes"
    subscribers = redis.Redis.from_url(fleet_backends.redis_url).pubsub_numsub(channel)
    assert subscribers == [(channel.encode(), 2)]  # both API nodes listen for changes
    token = fleet.key("events")
    with fleet.apis[0].client(token) as one, fleet.apis[1].client(token) as two:
        accepted = submit(one, "slow").json()
        statuses = []
        with two.stream("GET", f"/v1/submissions/{accepted['id']}/events") as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    statuses.append(json.loads(line.removeprefix("data: "))["status"])
    assert statuses[-1] == "completed" and "running" in statuses
