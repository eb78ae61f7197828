"""The schema's migrations on PostgreSQL and SQLite: up to head, down and up again, and what
concurrent starts do (one migrates, the others wait)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from api.db import make_engine, migrate
from tests.fleet.services import Backends

pytestmark = pytest.mark.fleet

MIGRATIONS = Path(__file__).resolve().parents[2] / "api" / "migrations"


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_upgrade_downgrade_upgrade(backend: str, fleet_backends: Backends,
                                   tmp_path: Path) -> None:
    url = (fleet_backends.new_database() if backend == "postgresql"
           else f"sqlite:///{tmp_path / 'm.sqlite3'}")
    engine = make_engine(url)
    migrate(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("submissions")}
    assert {"lease_owner", "lease_expires_at", "dispatched_at"} <= columns
    with engine.begin() as connection:
        command.downgrade(_config(connection), "0002")
    columns = {c["name"] for c in inspect(engine).get_columns("submissions")}
    assert "lease_owner" not in columns
    migrate(engine)
    assert "dispatched_at" in {c["name"] for c in inspect(engine).get_columns("submissions")}
    engine.dispose()


def test_nodes_starting_together_migrate_once(fleet_backends: Backends) -> None:
    url = fleet_backends.new_database()
    engines = [make_engine(url) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(migrate, engines))  # without the advisory lock: duplicate tables
    assert "submissions" in inspect(engines[0]).get_table_names()
    for engine in engines:
        engine.dispose()
