"""One exercise on disk: its validated metadata and the paths of its parts."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader.errors import ExerciseInvalid


class Visibility(StrEnum):
    """How much of the hidden suite a candidate sees in a public report."""

    SCORES = "scores"
    NAMES = "names"
    HINTS = "hints"


class Limits(BaseModel):
    """Time limits for running the hidden suite."""

    model_config = ConfigDict(extra="forbid")
    test_timeout: float = Field(5.0, gt=0, le=600)
    run_timeout: float = Field(90.0, gt=0, le=3600)


class ExerciseMeta(BaseModel):
    """The contents of ``exercise.toml``."""

    model_config = ConfigDict(extra="forbid")
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    difficulty: str = Field(pattern=r"^(easy|medium|hard)$")
    module: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.py$")
    visibility: Visibility = Visibility.HINTS
    canary: str = Field(min_length=16)
    limits: Limits = Field(default_factory=Limits)  # type: ignore[arg-type]
    categories: dict[str, float] = Field(min_length=1)

    @field_validator("categories")
    @classmethod
    def _positive_points(cls, value: dict[str, float]) -> dict[str, float]:
        """Every category must be worth something."""
        bad = [name for name, points in value.items() if points <= 0]
        if bad:
            raise ValueError(f"categories must have positive points: {', '.join(bad)}")
        return value


@dataclass(frozen=True)
class Mutant:
    """A known-buggy variant of the reference solution."""

    name: str
    path: Path
    bug: str


def _load_meta(path: Path) -> ExerciseMeta:
    """Parse and validate ``exercise.toml``, turning every problem into one clear message."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExerciseInvalid(f"{path}: missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ExerciseInvalid(f"{path}: not valid TOML: {exc}") from exc
    try:
        return ExerciseMeta.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ExerciseInvalid(f"{path}: {problems}") from exc


def _first_doc_line(source: str) -> str:
    """The first line of a module docstring, read without importing the module."""
    import ast

    try:
        doc = ast.get_docstring(ast.parse(source)) or ""
    except SyntaxError:
        return ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class Exercise:
    """An exercise folder: metadata, statement, stub, visible and hidden tests, reference,
    mutants."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.meta = _load_meta(root / "exercise.toml")
        if self.meta.slug != root.name:
            raise ExerciseInvalid(f"{root}: slug {self.meta.slug!r} differs from folder name")

    @property
    def slug(self) -> str:
        """The exercise's identifier."""
        return self.meta.slug

    @property
    def module_name(self) -> str:
        """The importable name of the submitted module (file name without ``.py``)."""
        return self.meta.module.removesuffix(".py")

    @property
    def statement(self) -> str:
        """The candidate-facing statement (README.md)."""
        return (self.root / "README.md").read_text(encoding="utf-8")

    @property
    def stub_path(self) -> Path:
        """The stub module a candidate starts from."""
        return self.root / "stub" / self.meta.module

    @property
    def reference_path(self) -> Path:
        """The reference solution."""
        return self.root / "reference" / self.meta.module

    @property
    def hidden_dir(self) -> Path:
        """The folder holding the hidden suite."""
        return self.root / "hidden"

    def visible_tests(self) -> list[Path]:
        """The visible test files, sorted."""
        return sorted((self.root / "visible").glob("test_*.py"))

    def hidden_files(self) -> list[Path]:
        """Every file of the hidden suite (tests and helpers), sorted."""
        return sorted(p for p in self.hidden_dir.rglob("*.py") if "__pycache__" not in p.parts)

    @cached_property
    def suite_hash(self) -> str:
        """A SHA-256 over the hidden suite's file names and contents."""
        digest = hashlib.sha256()
        for path in self.hidden_files():
            digest.update(path.relative_to(self.hidden_dir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        return "sha256:" + digest.hexdigest()

    def mutants(self) -> list[Mutant]:
        """The known-buggy variants, each with the bug its docstring names."""
        found = []
        for path in sorted((self.root / "mutants").glob("*.py")):
            bug = _first_doc_line(path.read_text(encoding="utf-8")).removeprefix("Bug:").strip()
            found.append(Mutant(name=path.stem, path=path, bug=bug))
        return found

    def check_layout(self) -> list[str]:
        """Problems with the folder's contents, as sentences; empty when it is complete."""
        problems = []
        for path in (self.root / "README.md", self.stub_path, self.reference_path):
            if not path.is_file():
                problems.append(f"missing {path.relative_to(self.root)}")
        if not self.visible_tests():
            problems.append("no visible tests (visible/test_*.py)")
        if not list(self.hidden_dir.glob("test_*.py")):
            problems.append("no hidden tests (hidden/test_*.py)")
        for path in self.hidden_files():
            if self.meta.canary not in path.read_text(encoding="utf-8"):
                problems.append(f"{path.relative_to(self.root)} lacks the canary string")
        for mutant in self.mutants():
            if not mutant.bug:
                problems.append(f"mutant {mutant.name} has no 'Bug: ...' docstring")
        return problems
