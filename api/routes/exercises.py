"""``/v1/exercises``: the catalogue, and each exercise's public material."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import CallerDep, ServicesDep
from api.errors import ERROR_RESPONSES, NOT_FOUND
from api.schemas import SLUG_PATTERN, ExerciseDetail, ExercisesPage, ExerciseSummary
from grader.exercise import Exercise

router = APIRouter(prefix="/v1/exercises", tags=["exercises"], responses=ERROR_RESPONSES)


def _summary(exercise: Exercise) -> ExerciseSummary:
    """The catalogue entry of an exercise."""
    meta = exercise.meta
    return ExerciseSummary(
        slug=meta.slug,
        title=meta.title,
        summary=meta.summary,
        difficulty=meta.difficulty,
        module=meta.module,
    )


@router.get("")
def list_exercises(_caller: CallerDep, services: ServicesDep) -> ExercisesPage:
    """Every exercise in the catalogue."""
    exercises = [_summary(e) for e in services.exercises()]
    return ExercisesPage(data=exercises, count=len(exercises))


@router.get("/{slug}", responses=NOT_FOUND)
def read_exercise(
    slug: Annotated[str, Path(max_length=100, pattern=SLUG_PATTERN)],
    _caller: CallerDep,
    services: ServicesDep,
) -> ExerciseDetail:
    """An exercise's statement, stub and visible tests (never the hidden suite)."""
    exercise = services.exercise(slug)
    meta = exercise.meta
    return ExerciseDetail(
        **_summary(exercise).model_dump(),
        visibility=meta.visibility.value,
        categories=meta.categories,
        test_timeout=meta.limits.test_timeout,
        run_timeout=meta.limits.run_timeout,
        statement=exercise.statement,
        stub=exercise.stub_path.read_text(encoding="utf-8"),
        visible_tests={p.name: p.read_text(encoding="utf-8") for p in exercise.visible_tests()},
    )
