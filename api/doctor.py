"""The service's checks for ``grader doctor``: the database and, in a fleet, the broker and
Redis (added through the ``grader.doctor`` entry point, so ``grader`` imports nothing here)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.doctor import Check

if TYPE_CHECKING:
    from api.settings import Settings


def checks() -> list[Check]:
    """The service's checks, with the settings of this environment (``GRADER_*``)."""
    from api.settings import Settings, SettingsInvalid

    try:
        settings = Settings.from_env()
    except SettingsInvalid as exc:
        return [Check("service settings", False, str(exc), "fix the GRADER_* variable named")]
    found = [_database(settings.database_url)]
    if not settings.fleet:
        found.append(Check("broker", True, "none: embedded mode (grader serve grades itself)"))
        return found
    return found + _fleet(settings)


def _database(url: str) -> Check:
    """Reachable and migrated (a SQLite file that does not exist yet is created at start)."""
    from sqlalchemy import inspect, text
    from sqlalchemy.engine import make_url

    from api.db import make_engine, safe_url

    shown = safe_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:
        return Check("database", False, f"{shown}: {exc}", "fix GRADER_DATABASE_URL")
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "").expanduser()
        if not parsed.database or parsed.database == ":memory:" or not path.exists():
            return Check("database", True, f"{shown}: created when the service starts")
    try:
        engine = make_engine(url)
        with engine.connect() as connection:
            version = None
            if inspect(connection).has_table("alembic_version"):
                query = text("SELECT version_num FROM alembic_version")
                version = connection.execute(query).scalar()
        engine.dispose()
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return Check(
            "database",
            False,
            f"{shown}: {reason}",
            "start the database; check GRADER_DATABASE_URL (host, user, password, name)",
        )
    head = _head_revision()
    if version != head:
        return Check(
            "database schema",
            False,
            f"{shown}: answers; schema at {version or 'none'}, the code needs {head}",
            "start `grader serve` or `grader worker` once: it migrates the database",
            required=False,
        )
    return Check("database", True, f"{shown}: answers, schema at {version}")


def _head_revision() -> str | None:
    """The newest migration shipped with the code."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def _fleet(settings: Settings) -> list[Check]:
    """The broker and Redis answer."""
    from api.commands.options import safe_broker
    from api.fleet import CeleryDispatcher, make_celery, redis_client

    found = []
    broker = safe_broker(settings.broker_url or "")
    try:
        CeleryDispatcher(make_celery(settings), settings.queue_name).ping()
        found.append(Check("broker", True, f"{broker}: answers"))
    except Exception as exc:
        found.append(
            Check("broker", False, f"{broker}: {exc}", "start the broker; check GRADER_BROKER_URL")
        )
    try:
        redis_client(settings).ping()
        found.append(Check("redis", True, "answers (shared rate limits and events)"))
    except Exception as exc:
        found.append(
            Check("redis", False, f"{exc}", "start Redis; check GRADER_REDIS_URL or the broker")
        )
    return found
