"""``grader doctor`` checks the service's database and, in a fleet, the broker and Redis (the
service adds its checks through the ``grader.doctor`` entry point)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from api.db import open_database
from api.doctor import checks
from tests.fleet.services import GRADER, REPO, Backends, clean_env

pytestmark = pytest.mark.fleet


def _by_name(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, tuple[bool, bool, str]]:
    """The service's checks with these settings: name -> (ok, required, detail)."""
    for name in [n for n in os.environ if n.startswith("GRADER_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return {c.name: (c.ok, c.required, c.detail) for c in checks()}


def test_database_broker_and_redis_checks(fleet_backends: Backends,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    database = fleet_backends.new_database()
    fleet = {"GRADER_DATABASE_URL": database, "GRADER_BROKER_URL": fleet_backends.redis_url}
    fresh = _by_name(monkeypatch, **fleet)
    assert fresh["database schema"][:2] == (False, False)  # a warning: migrated at first start
    assert fresh["broker"][0] and fresh["redis"][0]
    open_database(database).dispose()
    migrated = _by_name(monkeypatch, **fleet)
    assert migrated["database"][0] and "schema at 0003" in migrated["database"][2]
    down = _by_name(monkeypatch, GRADER_DATABASE_URL=database.replace(":5439/", ":1/"),
                    GRADER_BROKER_URL="redis://127.0.0.1:1/0")
    assert [down[name][:2] for name in ("database", "broker", "redis")] == [(False, True)] * 3


def test_grader_doctor_shows_the_service_checks(tmp_path: Path) -> None:
    done = subprocess.run([*GRADER, "doctor"], capture_output=True, text=True, timeout=120,
                          cwd=REPO, check=False, env=clean_env(
                              COLUMNS="250", GRADER_DATABASE_URL=f"sqlite:///{tmp_path}/n.db"))
    rows = {line.split("\t")[0]: line for line in done.stdout.splitlines()}
    assert "created when the service starts" in rows["database"]
    assert "embedded mode" in rows["broker"]
