"""Per-key limits hold across API nodes: one token bucket in Redis, one cap in the database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from api.ratelimit import RateLimiter, RedisRateLimiter
from tests.api.conftest import assert_error, submit
from tests.fleet.conftest import FleetFactory
from tests.fleet.services import Backends

pytestmark = pytest.mark.fleet


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_redis_bucket_answers_like_the_in_memory_bucket(fleet_backends: Backends) -> None:
    import redis

    client = redis.Redis.from_url(fleet_backends.redis_url)
    clock = FakeClock()
    shared = RedisRateLimiter(client, per_minute=60, capacity=3, prefix="t-bucket", clock=clock)
    local = RateLimiter(per_minute=60, capacity=3, clock=clock)
    client.delete("t-bucket:rate:a", "t-bucket:rate:b")
    steps = [0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 0.0, 0.0, 1000.0, 0.0, 0.0, 0.0, 0.0]
    for step in steps:
        clock.now += step
        for key in ("a", "b"):
            assert shared.acquire(key) == pytest.approx(local.acquire(key), abs=1e-3)


def test_rate_limit_is_shared_by_two_api_nodes(fleet_factory: FleetFactory) -> None:
    fleet = fleet_factory(api_nodes=2, workers=1, rate_burst=3, rate_per_minute=1,
                          max_queued_per_key=1000)
    token = fleet.key("eager")
    with fleet.apis[0].client(token) as one, fleet.apis[1].client(token) as two:
        assert [submit(c, "echo").status_code for c in (one, two, one)] == [202] * 3
        refused = submit(two, "echo")
        error = assert_error(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert error["details"]["burst"] == 3
        assert_error(submit(one, "echo"), 429, "rate_limited")
    with fleet.apis[1].client(fleet.key("patient")) as other:
        assert submit(other, "echo").status_code == 202  # buckets are per key


def test_queue_cap_holds_for_concurrent_requests_on_two_nodes(fleet_factory: FleetFactory
                                                               ) -> None:
    fleet = fleet_factory(api_nodes=2, workers=0, max_queued_per_key=5)  # nothing finishes
    token = fleet.key("busy")
    with fleet.apis[0].client(token) as one, fleet.apis[1].client(token) as two:
        with ThreadPoolExecutor(16) as pool:
            responses = list(pool.map(lambda i: submit((one, two)[i % 2], "echo"), range(16)))
        codes = sorted(r.status_code for r in responses)
        assert codes == [202] * 5 + [429] * 11
        refused = [r for r in responses if r.status_code == 429]
        assert all(r.json()["error"]["code"] == "too_many_queued" for r in refused)
        assert one.get("/v1/submissions").json()["count"] == 5
