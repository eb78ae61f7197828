"""Two ``grader serve`` processes (embedded mode) on one database: leases, not start-up, decide
who grades, so a restart of one never regrades the other's work and a dead one's work is
picked up by the other."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.api.conftest import Server, submit, wait_final

pytestmark = pytest.mark.slow

SETTINGS = {"lease_seconds": 6, "sweep_interval": 1, "redispatch_after": 5, "rate_burst": 1000,
            "rate_per_minute": 6000, "max_queued_per_key": 1000}


def _pair(tmp_path: Path) -> tuple[Server, Server]:
    """Two embedded servers on one SQLite database."""
    first = Server(tmp_path / "a", workers=2, **SETTINGS).start()
    second = Server(tmp_path / "b", database_url=first.database_url, workers=2,
                    **SETTINGS).start()
    return first, second


def _owners(database_url: str) -> list[str]:
    """The lease owners of the running submissions."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT lease_owner FROM submissions WHERE status = 'running'")).all()
    engine.dispose()
    return [str(row[0]) for row in rows]


def _wait_running_on(server: Server, database_url: str, timeout: float = 60) -> None:
    """Return once some submission is being graded by ``server``'s process."""
    assert server.proc is not None
    mark = f"/{server.proc.pid}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(mark in owner for owner in _owners(database_url)):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing ran on {server.url}:\n{server.log()}")


def test_restarting_one_leaves_the_others_work_and_killing_one_strands_nothing(
        tmp_path: Path) -> None:
    first, second = _pair(tmp_path)
    try:
        token = first.key("pair")
        with first.client(token) as client:
            ids = [submit(client, "slow").json()["id"] for _ in range(4)]
            _wait_running_on(first, first.database_url)
            assert second.stop() in (0, -15)  # restart the other one mid-grading
            second.start()
            finals = [wait_final(client, i) for i in ids]
        assert [f["status"] for f in finals] == ["completed"] * 4
        assert [f["attempts"] for f in finals] == [1] * 4  # nothing was graded twice

        with first.client(token) as client:
            ids = [submit(client, "slow").json()["id"] for _ in range(4)]
            _wait_running_on(first, first.database_url)
        first.kill()  # what it held must not stay running for good
        with second.client(token) as client:
            finals = [wait_final(client, i, timeout=90) for i in ids]
            ready = client.get("/readyz").json()
        assert [f["status"] for f in finals] == ["completed"] * 4, second.log()
        assert any(f["attempts"] == 2 for f in finals)  # what the dead one held, regraded
        assert ready["status"] == "ready"
    finally:
        first.kill()
        second.kill()
