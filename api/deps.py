"""Dependencies for the route handlers: settings, services, a database session, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.keys import OPEN_OWNER, Caller, authenticate
from api.services import Services
from api.settings import Settings


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, read once (``create_app`` overrides this)."""
    return Settings.from_env()


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_services(request: Request) -> Services:
    """The services the lifespan built."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_db(services: ServicesDep) -> Iterator[Session]:
    """A database session for one request."""
    with services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]

_bearer = HTTPBearer(auto_error=False, description="An API key from `grader keys create`.")

_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def get_caller(
    services: ServicesDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """Who is calling: the API key's owner, or the one open-mode user when that is on."""
    if credentials is None:
        if settings.open_mode:
            return Caller(id=OPEN_OWNER, name="open mode")
        raise ApiError(
            401,
            "unauthorized",
            "missing API key: send 'Authorization: Bearer <token>'",
            headers=_UNAUTHORIZED,
        )
    # A short session of its own: handlers that wait must not hold one open.
    with services.sessions() as session:
        caller = authenticate(session, credentials.credentials)
    if caller is None:
        raise ApiError(401, "unauthorized", "unknown or revoked API key", headers=_UNAUTHORIZED)
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def same_origin(request: Request) -> None:
    """Refuse a request a browser sent from another site (cross-site request forgery).

    A page elsewhere can make the browser POST a plain form here, with no key, which open mode
    would accept. Browsers name the page's origin on such a request; the CLI and other clients
    send no ``Origin`` and pass.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc != host:
        raise ApiError(
            403, "cross_origin", f"requests from {origin} are refused: not this service's page"
        )


SameOrigin = Depends(same_origin)
