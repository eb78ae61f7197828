"""Engine and sessions (SQLite file by default, PostgreSQL by URL) and migrations at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from grader.errors import GraderError

#: Seconds a SQLite connection waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT = 30
#: Seconds to wait for a PostgreSQL connection (an outage is an error soon, not a hang).
PG_CONNECT_TIMEOUT = 5
#: Advisory-lock key under which one process at a time migrates a PostgreSQL database.
_MIGRATION_LOCK = 0x67726164  # "grad"


class DatabaseUnavailable(GraderError):
    """The service database cannot be opened or migrated; the message says which and why."""


def safe_url(url: str) -> str:
    """``url`` with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "(unparsable database URL)"


def open_database(url: str) -> Engine:
    """An engine on ``url`` with the schema migrated; ``DatabaseUnavailable`` if that fails."""
    try:
        engine = make_engine(url)
        migrate(engine)
    except (SQLAlchemyError, OSError, ImportError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DatabaseUnavailable(f"database {safe_url(url)}: {reason}") from exc
    return engine


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode and a busy timeout for concurrent writers."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":  # the driver this project installs
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=15,
            pool_timeout=10,
            connect_args={"connect_timeout": PG_CONNECT_TIMEOUT},
        )
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=15)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            pool_size=20,
            max_overflow=20,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT},
        )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the one writer; NORMAL sync is safe with WAL."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    cursor.close()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory; objects stay usable after commit (handlers return them)."""
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine) -> None:
    """Bring the schema up to date with the migrations shipped in ``api/migrations``."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # fleet nodes may start together
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
