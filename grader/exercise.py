"""One exercise on disk: its validated metadata and the paths of its parts."""

from __future__ import annotations

import hashlib
import itertools
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

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


#: The file listing an exercise's mutants, next to ``exercise.toml``.
MUTANTS_FILE = "mutants.toml"


class Edit(BaseModel):
    """One change a mutant makes to the reference: ``replace`` (text found exactly once in
    the reference) becomes ``with``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    replace: str = Field(min_length=1)
    with_: str = Field(alias="with")


class MutantSpec(BaseModel):
    """One ``[[mutant]]`` of ``mutants.toml``: edits of the reference, or a whole file."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    bug: str = Field(min_length=1)
    edit: list[Edit] = Field(default_factory=list)
    file: str | None = Field(None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.py$")

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        """``reference`` names the reference's own staging folder."""
        if value == "reference":
            raise ValueError("'reference' is reserved")
        return value

    @model_validator(mode="after")
    def _edits_or_file(self) -> MutantSpec:
        """A mutant is either edits of the reference or a whole file, never both or neither."""
        if bool(self.edit) == (self.file is not None):
            raise ValueError("give either edits (edit = [...]) or a whole file (file = ...)")
        return self


class MutantsFile(BaseModel):
    """The contents of ``mutants.toml``."""

    model_config = ConfigDict(extra="forbid")
    mutant: list[MutantSpec] = Field(default_factory=list)

    @field_validator("mutant")
    @classmethod
    def _unique_names(cls, value: list[MutantSpec]) -> list[MutantSpec]:
        """Each mutant is staged and reported under its name."""
        names = [m.name for m in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"mutant names must be unique: {', '.join(twice)}")
        return value


@dataclass(frozen=True)
class Mutant:
    """A known-buggy variant of the reference solution: ``edits`` applied to the reference,
    or, for a rewrite, a whole module of its own at ``path``."""

    name: str
    bug: str
    reference: Path
    edits: tuple[Edit, ...] = ()
    path: Path | None = None

    def source(self) -> str:
        """The mutant's module text; ``ExerciseInvalid`` if its file is missing or an edit
        does not match the reference exactly once."""
        if self.path is not None:
            try:
                return self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise ExerciseInvalid(f"mutant {self.name}: {self.path.name} is missing") from None
        return apply_edits(self.reference.read_text(encoding="utf-8"), self.edits, self.name)


def apply_edits(text: str, edits: Sequence[Edit], mutant: str = "mutant") -> str:
    """``text`` with every edit applied; each ``replace`` must occur exactly once in ``text``
    itself (not in the result of other edits), and no two may overlap."""
    spans: list[tuple[int, int, int, str]] = []
    for number, edit in enumerate(edits, 1):
        starts = _occurrences(text, edit.replace)
        if len(starts) != 1:
            times = "nowhere in" if not starts else f"{len(starts)} times in"
            raise ExerciseInvalid(
                f"mutant {mutant}: edit {number} (replace {_excerpt(edit.replace)}) matches "
                f"{times} the reference; it must match exactly once"
            )
        spans.append((starts[0], starts[0] + len(edit.replace), number, edit.with_))
    spans.sort()
    for (_, end, first, _), (start, _, second, _) in itertools.pairwise(spans):
        if start < end:
            raise ExerciseInvalid(f"mutant {mutant}: edits {first} and {second} overlap")
    parts, done = [], 0
    for start, end, _, replacement in spans:
        parts += [text[done:start], replacement]
        done = end
    return "".join([*parts, text[done:]])


def _occurrences(text: str, part: str) -> list[int]:
    """Every index where ``part`` starts in ``text``, overlapping matches included."""
    found, at = [], text.find(part)
    while at != -1:
        found.append(at)
        at = text.find(part, at + 1)
    return found


def _excerpt(text: str, width: int = 60) -> str:
    """A short one-line quotation of an edit's text."""
    lines = text.strip().splitlines() or [text]
    more = len(lines) > 1 or len(lines[0]) > width
    return repr(lines[0][:width] + ("..." if more else ""))


def _load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file is ``ExerciseInvalid``."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExerciseInvalid(f"{path}: missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ExerciseInvalid(f"{path}: not valid TOML: {exc}") from exc


def _problems(exc: ValidationError, data: dict[str, Any]) -> str:
    """Every validation error as ``field.path: message``, with a mutant's name after its
    index (``mutant.3 (evict_mru).edit.0.with: Field required``)."""
    found = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        entries = data.get("mutant")
        if len(loc) > 1 and loc[0] == "mutant" and loc[1].isdigit() and isinstance(entries, list):
            entry = entries[int(loc[1])] if int(loc[1]) < len(entries) else None
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                loc[1] += f" ({entry['name']})"
        found.append(f"{'.'.join(loc) or '(top)'}: {err['msg']}")
    return "; ".join(found)


def _load_meta(path: Path) -> ExerciseMeta:
    """Parse and validate ``exercise.toml``, turning every problem into one clear message."""
    data = _load_toml(path)
    try:
        return ExerciseMeta.model_validate(data)
    except ValidationError as exc:
        raise ExerciseInvalid(f"{path}: {_problems(exc, data)}") from exc


def _load_mutants(path: Path) -> MutantsFile:
    """Parse and validate ``mutants.toml``, naming the bad field (and mutant) on failure."""
    data = _load_toml(path)
    try:
        return MutantsFile.model_validate(data)
    except ValidationError as exc:
        raise ExerciseInvalid(f"{path}: {_problems(exc, data)}") from exc


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

    @property
    def mutants_dir(self) -> Path:
        """The folder holding whole-file mutants (rewrites of the reference)."""
        return self.root / "mutants"

    def mutants(self) -> list[Mutant]:
        """The known-buggy variants listed in ``mutants.toml``, sorted by name (none when the
        file is missing); ``ExerciseInvalid`` when the file is malformed."""
        path = self.root / MUTANTS_FILE
        if not path.is_file():
            return []
        found = [
            Mutant(
                name=spec.name,
                bug=spec.bug,
                reference=self.reference_path,
                edits=tuple(spec.edit),
                path=self.mutants_dir / spec.file if spec.file else None,
            )
            for spec in _load_mutants(path).mutant
        ]
        return sorted(found, key=lambda mutant: mutant.name)

    def check_layout(self) -> list[str]:
        """Problems with the folder's contents, as sentences; empty when it is complete.

        Whether each mutant's edits still apply to the reference is checked by
        ``grader validate``, one check per mutant.
        """
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
        problems += self._mutant_file_problems()
        return problems

    def _mutant_file_problems(self) -> list[str]:
        """A missing or malformed ``mutants.toml``, and mutant files missing or not listed."""
        if not (self.root / MUTANTS_FILE).is_file():
            return [f"missing {MUTANTS_FILE}"]
        try:
            mutants = self.mutants()
        except ExerciseInvalid as exc:
            return [str(exc)]
        problems = []
        listed = {m.path.name for m in mutants if m.path is not None}
        for mutant in mutants:
            if mutant.path is not None and not mutant.path.is_file():
                problems.append(f"mutant {mutant.name}: missing mutants/{mutant.path.name}")
        for path in sorted(self.mutants_dir.glob("*.py")):
            if path.name not in listed:
                problems.append(f"mutants/{path.name} is not listed in {MUTANTS_FILE}")
        return problems
