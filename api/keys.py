"""API keys: high-entropy bearer tokens, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiKey, utcnow

#: Every token starts with this, so a leaked one is easy to recognise (and to scan for).
TOKEN_PREFIX = "gk_"
#: The owner of every submission in open mode.
OPEN_OWNER = "open"


@dataclass(frozen=True)
class Caller:
    """Who is making a request: an API key's id (or ``open``), its name, whether it is admin."""

    id: str
    name: str
    admin: bool = False


def hash_token(token: str) -> str:
    """The stored form of a token. A fast hash is enough: tokens carry 256 random bits."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, admin: bool = False) -> tuple[ApiKey, str]:
    """Store a new key called ``name`` (an admin key if ``admin``); returns it and its token
    (shown once, never stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        id="key_" + secrets.token_hex(6),
        name=name,
        token_hash=hash_token(token),
        prefix=token[: len(TOKEN_PREFIX) + 6],
        created_at=utcnow(),
        admin=admin,
    )
    session.add(key)
    session.commit()
    return key, token


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def revoke_key(session: Session, key_id: str) -> ApiKey | None:
    """Revoke ``key_id`` (idempotent); ``None`` if there is no such key."""
    key = session.get(ApiKey, key_id)
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.commit()
    return key


def authenticate(session: Session, token: str) -> Caller | None:
    """The caller a bearer token belongs to, or ``None`` for unknown or revoked tokens."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    key = session.scalar(select(ApiKey).where(ApiKey.token_hash == digest))
    # The lookup is by hash already; the constant-time compare keeps it so if that changes.
    if key is None or not hmac.compare_digest(key.token_hash, digest) or key.revoked_at:
        return None
    return Caller(id=key.id, name=key.name, admin=key.admin)
