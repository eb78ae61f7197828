"""Practice repositories: an exercise as a ready-to-push Git repository that grades every push.

:func:`practice_files` lays out the repository: the statement with a section on how grading
works (README.md), the stub, the visible tests, ``.gitignore``, a GitHub Actions workflow
(``.github/workflows/grade.yml``) and, optionally, ``.gitlab-ci.yml``. The templates are the
``*.txt`` files next to this module; ``@@NAME@@`` marks what is filled in.

The workflow installs the grader with ``pip install $GRADER_PIP_SPEC``: by default the spec of
the grader that writes the repository (:mod:`grader.practice.install_spec`), so CI grades with
the same grader; one that was installed from a local folder cannot be repeated in CI and needs
an explicit spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path, PurePosixPath

from grader import __version__
from grader.errors import GraderError
from grader.exercise import Exercise
from grader.practice.install_spec import SpecUndecided, running_grader_spec

#: The workflow file, relative to the repository.
WORKFLOW_PATH = PurePosixPath(".github/workflows/grade.yml")
#: The GitLab CI file, relative to the repository.
GITLAB_PATH = PurePosixPath(".gitlab-ci.yml")
#: The default share of the maximum score a push must reach, in percent.
DEFAULT_MIN_PERCENT = 100.0

_PLACEHOLDER = re.compile(r"@@[A-Z_]+@@")
# What may go into the YAML unquoted-safe: pip specs and paths, not quotes or newlines.
_SAFE_SPEC = re.compile(r"^[\w@:/.,=<>!~+\- \[\]#%]+$")

__all__ = [
    "DEFAULT_MIN_PERCENT",
    "GITLAB_PATH",
    "WORKFLOW_PATH",
    "Options",
    "SpecUndecided",
    "practice_files",
    "write_practice_repo",
]


@dataclass(frozen=True)
class Options:
    """Choices that end up in the generated files."""

    pip_spec: str | None = None
    """What CI gives ``pip install``; ``None``: how the running grader was installed."""
    min_percent: float = DEFAULT_MIN_PERCENT
    gitlab: bool = False


def template(name: str) -> str:
    """The text of one template shipped with this package."""
    return files(__name__).joinpath(name).read_text(encoding="utf-8")


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with every ``@@NAME@@`` replaced; a placeholder without a value is a bug."""
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    left = sorted(set(_PLACEHOLDER.findall(text)))
    if left:
        raise GraderError(f"practice template placeholders without a value: {', '.join(left)}")
    return text


def _percent(value: float) -> str:
    """``100`` rather than ``100.0``."""
    return f"{value:g}"


def _check(options: Options, pip_spec: str) -> None:
    """Refuse values that would break the generated YAML or shell."""
    if not _SAFE_SPEC.match(pip_spec):
        raise GraderError(
            f"unusable pip spec {pip_spec!r}: use a requirement, a URL or a path, without quotes"
        )
    if not 0 <= options.min_percent <= 100:
        raise GraderError(
            f"the minimum score must be a percentage from 0 to 100, not {options.min_percent:g}"
        )


def practice_files(exercise: Exercise, options: Options | None = None) -> dict[PurePosixPath, str]:
    """Every file of the practice repository for ``exercise``, by relative path.

    :class:`SpecUndecided` when ``options`` give no pip spec and the running grader's own
    installation cannot be repeated in CI.
    """
    options = options or Options()
    pip_spec = options.pip_spec if options.pip_spec is not None else running_grader_spec()
    _check(options, pip_spec)
    values = {
        "SLUG": exercise.slug,
        "MODULE": exercise.meta.module,
        "VERSION": __version__,
        "PIP_SPEC": pip_spec,
        "MIN_PERCENT": _percent(options.min_percent),
        "GITLAB_NOTE": " (and `.gitlab-ci.yml` on GitLab)" if options.gitlab else "",
    }
    statement = exercise.statement.rstrip("\n") + "\n"
    found: dict[PurePosixPath, str] = {
        PurePosixPath("README.md"): statement + fill(template("readme.md.txt"), values),
        PurePosixPath(exercise.meta.module): exercise.stub_path.read_text(encoding="utf-8"),
        PurePosixPath(".gitignore"): template("gitignore.txt"),
        WORKFLOW_PATH: fill(template("grade.yml.txt"), values),
    }
    for test in exercise.visible_tests():
        found[PurePosixPath(test.name)] = test.read_text(encoding="utf-8")
    if options.gitlab:
        found[GITLAB_PATH] = fill(template("gitlab-ci.yml.txt"), values)
    return found


def write_practice_repo(
    exercise: Exercise, target: Path, options: Options | None = None, force: bool = False
) -> list[Path]:
    """Write the practice repository into ``target``; the paths written, in order.

    Existing files are only replaced with ``force``; otherwise ``GraderError`` names them and
    nothing is written.
    """
    planned = {target / Path(rel): text for rel, text in practice_files(exercise, options).items()}
    clashes = [str(path) for path in planned if path.exists()]
    if clashes and not force:
        raise GraderError(f"would overwrite {', '.join(clashes)}; use --force to replace them")
    for path, text in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    return list(planned)
