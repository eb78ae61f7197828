"""Fixtures of the fleet tests: several API nodes and grading nodes on one database and queue.

The servers are the session's shared Redis and PostgreSQL; each fleet gets its own database
and queue (named alike), so fleets never see each other's work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import (  # noqa: F401 (fixtures used by the tests here)
    FIXTURE_EXERCISES,
    Server,
    create_key,
    fixture_server,
    fleet_backends,
    mode_backends,
    server_factory,
    service_mode,
    wait_final,
)
from tests.fleet.services import Backends, Tally, Worker, fleet_settings

#: Generous per-key limits, so that load is limited by grading only.
OPEN_LIMITS = {"rate_per_minute": 60000, "rate_burst": 10000, "max_queued_per_key": 10000}


class Fleet:
    """API nodes (``grader serve --broker``, no local workers) and grading nodes."""

    def __init__(self, workdir: Path, backends: Backends, api_nodes: int, workers: int,
                 concurrency: int, **settings: Any) -> None:
        self.backends = backends
        self.database_url = backends.new_database()
        self.queue = self.database_url.rsplit("/", 1)[1]
        self.settings = {**OPEN_LIMITS, **settings}
        self.apis = [Server(workdir / f"api{i}", database_url=self.database_url, workers=0,
                            backends=backends, **self.settings) for i in range(api_nodes)]
        env = fleet_settings(backends, self.database_url, self.queue, **self.settings)
        self.workers = [Worker(workdir / f"worker{i}", env, concurrency=concurrency,
                               exercises=FIXTURE_EXERCISES) for i in range(workers)]

    def start(self) -> Fleet:
        """Start every node at once; return when all are up."""
        for worker in self.workers:
            worker.start()
        with ThreadPoolExecutor(len(self.apis)) as pool:
            list(pool.map(lambda api: api.start(timeout=120), self.apis))
        for worker in self.workers:
            worker.wait_ready(120)
        return self

    def key(self, name: str) -> str:
        """A new API key (the database is shared, so it works on every node)."""
        return create_key(self.database_url, name)

    def tally(self) -> Tally:
        """Gradings started and stored per submission, from every worker's logs."""
        return Tally.read([worker.text() for worker in self.workers])

    def statuses(self) -> dict[str, int]:
        """How many submissions are in each status, straight from the database."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT status, count(*) FROM submissions GROUP BY status")).all()
        engine.dispose()
        return {str(status): int(count) for status, count in rows}

    def kill(self) -> None:
        """SIGKILL everything still running."""
        for api in self.apis:
            api.kill()
        for worker in self.workers:
            worker.kill()

    def logs(self) -> str:
        """The end of every node's log, for failure messages."""
        parts = [f"--- api{i} ---\n{api.log()[-3000:]}" for i, api in enumerate(self.apis)]
        parts += [f"--- worker{i} ---\n{w.text()[-3000:]}" for i, w in enumerate(self.workers)]
        return "\n".join(parts)


FleetFactory = Callable[..., Fleet]


@pytest.fixture
def fleet_factory(tmp_path: Path, fleet_backends: Backends) -> Iterator[FleetFactory]:  # noqa: F811
    """Start fleets in this test's folder; all killed afterwards."""
    made: list[Fleet] = []

    def make(api_nodes: int = 2, workers: int = 3, concurrency: int = 2, start: bool = True,
             **settings: Any) -> Fleet:
        fleet = Fleet(tmp_path / f"fleet{len(made)}", fleet_backends, api_nodes, workers,
                      concurrency, **settings)
        made.append(fleet)
        return fleet.start() if start else fleet

    yield make
    for fleet in made:
        fleet.kill()


def final_all(client: httpx.Client, ids: list[str], timeout: float = 180) -> list[dict[str, Any]]:
    """Every submission once it is completed or failed (long-polls, ten at a time)."""
    with ThreadPoolExecutor(10) as pool:
        return list(pool.map(lambda i: wait_final(client, i, timeout=timeout), ids))
