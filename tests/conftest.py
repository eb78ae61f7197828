"""Shared fixtures: the small fixture exercise and helpers to write submissions."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.catalogue import Catalogue
from grader.exercise import Exercise

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_EXERCISES = FIXTURES / "exercises"


def docker_required() -> bool:
    """Whether this run must fail, not skip, when Docker is missing."""
    return os.environ.get("GRADER_REQUIRE_DOCKER") == "1" or os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def fixture_catalogue() -> Catalogue:
    """The catalogue of the grader's own test exercises."""
    return Catalogue(FIXTURE_EXERCISES)


@pytest.fixture(scope="session")
def adder(fixture_catalogue: Catalogue) -> Exercise:
    """A tiny exercise whose suite runs in well under a second."""
    return fixture_catalogue.get("adder")


@pytest.fixture
def write_module(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``source`` as ``name`` in a fresh folder and return the file's path."""

    def write(source: str, name: str = "adder.py") -> Path:
        folder = tmp_path / "submission"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_text(source)
        return path

    return write
