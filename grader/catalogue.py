"""The catalogue of exercises: the package's own, or a directory an operator names."""

from __future__ import annotations

from pathlib import Path

from grader.errors import ExerciseNotFound, GraderError
from grader.exercise import Exercise


def default_exercises_dir() -> Path:
    """The exercises shipped with the package."""
    import exercises

    return Path(exercises.__file__).resolve().parent


class Catalogue:
    """Exercises found in one directory, one sub-folder each, loaded lazily and validated.

    ``root`` is the configured directory (``GraderSettings.exercises_dir``, resolved by the
    command line or the service); ``None`` means the shipped exercises.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or default_exercises_dir()).resolve()
        if not self.root.is_dir():
            raise GraderError(f"exercise directory not found: {self.root}")
        self._cache: dict[str, Exercise] = {}

    def slugs(self) -> list[str]:
        """The slugs of every exercise folder, sorted."""
        return sorted(p.name for p in self.root.iterdir() if (p / "exercise.toml").is_file())

    def get(self, slug: str) -> Exercise:
        """The exercise called ``slug``; ``ExerciseNotFound`` if there is none."""
        if slug not in self._cache:
            if slug not in self.slugs():
                raise ExerciseNotFound(slug, self.slugs())
            self._cache[slug] = Exercise(self.root / slug)
        return self._cache[slug]

    def all(self) -> list[Exercise]:
        """Every exercise, sorted by slug."""
        return [self.get(slug) for slug in self.slugs()]
