"""``/v1/me``: who the page is signed in as, so it can check a pasted key and its role."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CallerDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.web.schemas import Me

router = APIRouter(prefix="/v1/me", tags=["account"], responses=ERROR_RESPONSES)


@router.get("")
def read_me(caller: CallerDep, settings: SettingsDep) -> Me:
    """The caller: its key id and name, whether it is an admin key, whether open mode is on."""
    return Me(id=caller.id, name=caller.name, admin=caller.admin, open_mode=settings.open_mode)
