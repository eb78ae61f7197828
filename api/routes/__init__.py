"""The routers, one per resource, gathered into ``api_router``."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import exercises, health, submissions

api_router = APIRouter()
api_router.include_router(submissions.router)
api_router.include_router(exercises.router)
api_router.include_router(health.router)
