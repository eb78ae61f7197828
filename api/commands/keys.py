"""``grader keys create|list|revoke``: manage the API keys the service accepts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from api.commands.options import DatabaseUrl
from grader.cli.output import console, error, table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

keys_app = typer.Typer(help="Manage API keys of the grading service.", no_args_is_help=True)


def _sessions(database_url: str | None) -> sessionmaker[Session]:
    """A session factory on the (migrated) service database (SQLAlchemy imported lazily)."""
    from api.db import make_sessions, open_database
    from api.settings import Settings

    return make_sessions(open_database(Settings.from_env(database_url=database_url).database_url))


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    database_url: DatabaseUrl = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="May use the operator view: every submission.")
    ] = False,
) -> None:
    """Create a key; its token is printed once, on standard output."""
    from api.keys import create_key

    with _sessions(database_url)() as session:
        key, token = create_key(session, name, admin=admin)
    kind = "admin key " if key.admin else ""
    print(f"created {kind}{key.id} ({key.name}); its token, shown only now:", file=sys.stderr)
    print(token)


@keys_app.command("list")
def list_keys(database_url: DatabaseUrl = None) -> None:
    """List keys (never their tokens)."""
    from api.keys import list_keys as all_keys

    with _sessions(database_url)() as session:
        keys = all_keys(session)
    rows = [
        [
            k.id,
            k.name,
            k.prefix + "...",
            k.created_at.strftime("%Y-%m-%d %H:%M"),
            f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active",
            "admin" if k.admin else "",
        ]
        for k in keys
    ]
    table("API keys", ["id", "name", "token", "created", "status", "role"], rows)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `grader keys list` shows.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key: requests with its token are refused from now on."""
    from api.keys import revoke_key

    with _sessions(database_url)() as session:
        key = revoke_key(session, key_id)
    if key is None:
        error(f"no key {key_id!r}")
        raise typer.Exit(2)
    console().print(f"revoked {key.id} ({key.name})")


def register(app: typer.Typer) -> None:
    """Add ``keys`` to ``app``."""
    app.add_typer(keys_app, name="keys")
