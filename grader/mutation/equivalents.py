"""``equivalent-mutants.toml``: the machine mutants of an exercise that no test can kill
because they behave as the statement promises, each with the reason why.

```toml
[[equivalent]]
id = "cmp:TokenBucket.try_acquire:2"
reason = "one line: why no behaviour the statement promises can tell them apart"
```
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader.errors import ExerciseInvalid

#: The file listing an exercise's equivalent machine mutants, next to ``exercise.toml``.
EQUIVALENTS_FILE = "equivalent-mutants.toml"

#: ``<operator>:<qualified function>:<index>``.
ID_PATTERN = r"^[a-z]+:[A-Za-z_<>][A-Za-z0-9_.<>]*:[0-9]+$"


class Equivalent(BaseModel):
    """One ``[[equivalent]]`` entry: a mutant id and why it is equivalent."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=ID_PATTERN)
    reason: str = Field(min_length=1)

    @field_validator("reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        """A reason is one line, so that reports can quote it."""
        if not value.strip() or "\n" in value.strip():
            raise ValueError("must be one non-blank line")
        return value.strip()


class EquivalentsFile(BaseModel):
    """The contents of ``equivalent-mutants.toml``."""

    model_config = ConfigDict(extra="forbid")
    equivalent: list[Equivalent] = Field(default_factory=list)

    @field_validator("equivalent")
    @classmethod
    def _unique_ids(cls, value: list[Equivalent]) -> list[Equivalent]:
        """Each mutant is listed once."""
        ids = [entry.id for entry in value]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"ids must be unique: {', '.join(twice)}")
        return value


def load_equivalents(exercise_root: Path) -> dict[str, str]:
    """The reason for each listed mutant id, by id; empty when the file is absent.

    A file that is not valid TOML or breaks the format raises ``ExerciseInvalid`` naming the
    file, the entry and the field.
    """
    path = exercise_root / EQUIVALENTS_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExerciseInvalid(f"{path}: not valid TOML: {exc}") from exc
    try:
        parsed = EquivalentsFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ExerciseInvalid(f"{path}: {problems}") from exc
    return {entry.id: entry.reason for entry in parsed.equivalent}
