"""Fifty concurrent submissions: every one accepted, graded once, none lost or duplicated."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.conftest import ServerFactory, submit, wait_final

pytestmark = pytest.mark.slow

CONCURRENT = 50


def _metric(text: str, sample: str) -> float:
    """The value of one sample in Prometheus text."""
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    assert match, f"{sample} missing from:\n{text}"
    return float(match.group(1))


def test_fifty_concurrent_submissions_all_complete(server_factory: ServerFactory) -> None:
    server = server_factory(workers=2, rate_burst=1000, rate_per_minute=6000,
                            max_queued_per_key=1000).start()
    token = server.key("load")
    limits = httpx.Limits(max_connections=CONCURRENT)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                      timeout=120, limits=limits) as client:
        with ThreadPoolExecutor(CONCURRENT) as pool:
            responses = list(pool.map(lambda _i: submit(client, "echo"), range(CONCURRENT)))
        assert [r.status_code for r in responses] == [202] * CONCURRENT
        ids = [r.json()["id"] for r in responses]
        assert len(set(ids)) == CONCURRENT
        with ThreadPoolExecutor(10) as pool:
            finals = list(pool.map(lambda i: wait_final(client, i, timeout=240), ids))
        assert all(f["status"] == "completed" for f in finals)
        assert all(f["report"]["status"] == "passed" for f in finals)
        assert all(f["attempts"] == 1 for f in finals)
        listed = client.get("/v1/submissions", params={"limit": 100}).json()
        assert listed["count"] == CONCURRENT
        assert sorted(s["id"] for s in listed["data"]) == sorted(ids)
        metrics = client.get("/metrics").text
    graded = server.grading_metrics()  # the worker node's in a fleet
    assert _metric(graded, 'grader_gradings_total{status="completed"}') == CONCURRENT
    assert _metric(metrics, "grader_submissions_accepted_total") == CONCURRENT
    assert _metric(graded, "grader_grading_duration_seconds_count") == CONCURRENT
    assert _metric(metrics, "grader_queue_depth") == 0
    server.stop()
