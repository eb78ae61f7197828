"""The newcomer walk: a fresh install, then the README's commands in order, as a new user types them.

1. A copy of the checkout (what a fresh clone holds: tracked and unignored files) is installed
   into a fresh virtualenv (``python -m venv``, no system site packages), **not** editable, so
   the walk uses the grader as an installed package: its exercises, templates and entry points
   must all be in the package.
2. The quickstart's grading (the command ``scripts/quickstart.sh`` runs after installing).
3. "Solving an exercise": the README block's commands, read from the README itself, in order
   (``grader list``, ``show``, ``start``, ``test my-lru``, ``grade``), then a buggy solution and a
   correct one graded.
4. "Practice repositories": ``grader init-repo`` (which, for this local install, must stop and
   ask for ``--pip-spec``), again with ``--pip-spec``, ``git init/add/commit``, and the generated
   workflow's ``run`` steps executed locally in order, as GitHub would on the first push.

How the virtualenv gets the project's dependencies: ``pip install <copy>`` with all of them took
36 s on a quiet machine and 97-134 s with the machine shared (two cores), over the ~90 s a CI
step should spend; so by default the venv sees this environment's installed dependencies (a
``.pth`` file) and the project itself is installed with ``pip install --no-deps <copy>``.
``GRADER_WALK_INSTALL=full`` installs everything from the package index instead. The grader runs
submissions in the process sandbox (``GRADER_SANDBOX=process``, the README's variable), so the
walk needs no Docker; the workflow grades in direct mode, as it is written to.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import __version__
from grader.catalogue import Catalogue

from .test_practice_workflow import run_workflow

pytestmark = pytest.mark.walk

ROOT = Path(__file__).resolve().parents[2]
SLUG, MODULE = "lru-cache", "lru_cache.py"


def _checkout_files() -> list[str]:
    """What a fresh clone of this checkout holds (tracked files, and new unignored ones)."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard",
                             "-z"], capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout, as a fresh clone has it."""
    target = tmp_path_factory.mktemp("walk") / "hidden-grader"
    for name in _checkout_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


@pytest.fixture(scope="module")
def venv(clone: Path) -> Path:
    """A fresh virtualenv with the copy installed, not editable (see the module docstring)."""
    path = clone.parent / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True)
    python = str(path / "bin" / "python")
    full = os.environ.get("GRADER_WALK_INSTALL") == "full"
    if not full:
        theirs = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                 "['purelib'])"], capture_output=True, text=True,
                                check=True).stdout.strip()
        (Path(theirs) / "project-dependencies.pth").write_text(
            sysconfig.get_paths()["purelib"] + "\n")
    started = time.monotonic()
    proc = subprocess.run([python, "-m", "pip", "install", "-q", *([] if full else ["--no-deps"]),
                           str(clone)], capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(f"\nnewcomer walk: pip install {'' if full else '--no-deps '}took {seconds:.1f} s")
    return path


@pytest.fixture(scope="module")
def env(venv: Path) -> dict[str, str]:
    """A user's shell with the venv activated, and nothing of this test run's settings."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("GRADER_", "GITHUB_", "PYTEST_", "VIRTUAL_ENV", "PYTHON"))}
    return {**base, "PATH": f"{venv / 'bin'}{os.pathsep}{base.get('PATH', '')}",
            "VIRTUAL_ENV": str(venv), "GRADER_SANDBOX": "process",
            "GIT_AUTHOR_NAME": "New User", "GIT_AUTHOR_EMAIL": "new@example.com",
            "GIT_COMMITTER_NAME": "New User", "GIT_COMMITTER_EMAIL": "new@example.com"}


@pytest.fixture(scope="module")
def home(clone: Path) -> Iterator[Path]:
    """Where the user types the commands (outside the clone)."""
    path = clone.parent / "home"
    path.mkdir()
    yield path


def typed(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as typed at a shell prompt in ``cwd``."""
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def readme_commands(heading: str) -> list[str]:
    """The commands of the README section ``heading``'s indented code, comments dropped."""
    text = (ROOT / "README.md").read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line[4:] for line in section.splitlines() if line.startswith("    ")]
    return [line.split("  #", 1)[0].strip() for line in lines if line.strip()]


def test_installed_grader_is_the_copy_not_the_checkout(venv: Path, env: dict[str, str],
                                                       home: Path) -> None:
    version = typed("grader --version", home, env)
    assert version.returncode == 0 and version.stdout == f"hidden-grader {__version__}\n"
    where = typed("python -c 'import grader; print(grader.__file__)'", home, env)
    assert where.stdout.startswith(str(venv)), where.stdout  # site-packages, not a source tree


def test_quickstart_grades_the_reference(clone: Path, env: dict[str, str]) -> None:
    script = (clone / "scripts" / "quickstart.sh").read_text()
    assert '.venv/bin/grader grade "$slug" "exercises/$slug/reference/$module"' in script
    graded = typed(f"grader grade {SLUG} exercises/{SLUG}/reference/{MODULE}", clone, env)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert graded.stdout.startswith(f"{SLUG}: passed  score 100/100 (100.0%)")
    assert "isolated (process) mode" in graded.stdout


def test_solving_an_exercise_as_the_readme_says(home: Path, env: dict[str, str]) -> None:
    commands = readme_commands("Solving an exercise")
    assert commands == ["grader list", f"grader show {SLUG}", f"grader start {SLUG} my-lru",
                        "grader test my-lru", f"grader grade {SLUG} my-lru"], commands
    listing, show, start, test, grade = (typed(c, home, env) for c in commands)
    assert listing.returncode == 0 and f"\n{SLUG}\t" in listing.stdout
    assert show.returncode == 0 and show.stdout.startswith("# ")
    assert start.returncode == 0 and "`grader test my-lru`" in start.stdout, start.stderr
    assert test.returncode == 1, test.stdout + test.stderr  # the stub fails the visible tests
    assert "not found" not in test.stdout + test.stderr and " failed" in test.stdout
    assert grade.returncode == 1 and grade.stdout.startswith(f"{SLUG}: failed  score 0/100")
    assert "same cause in" in grade.stdout and "NotImplementedError" in grade.stdout

    exercise = Catalogue().get(SLUG)
    buggy = next(m for m in exercise.mutants() if m.name == "evict_mru").source()
    (home / "my-lru" / MODULE).write_text(buggy)
    graded = typed(f"grader grade {SLUG} my-lru", home, env)
    assert graded.returncode == 1 and f"{SLUG}: failed" in graded.stdout
    assert "returned" in graded.stdout  # what the buggy code did, not "assertion failed"

    (home / "my-lru" / MODULE).write_text(exercise.reference_path.read_text())
    assert typed("grader test my-lru", home, env).returncode == 0
    solved = typed(f"grader grade {SLUG} my-lru", home, env)
    assert solved.returncode == 0 and solved.stdout.startswith(f"{SLUG}: passed  score 100/100")
    wrong = typed(f"grader grade {SLUG} my-lru/{MODULE}x", home, env)
    assert (wrong.returncode, wrong.stdout) == (2, ""), wrong.stderr
    assert wrong.stderr.startswith("error: no such file or folder: ")


def test_practice_repository_first_push(clone: Path, home: Path, venv: Path,
                                        env: dict[str, str], tmp_path: Path) -> None:
    commands = readme_commands("Practice repositories: grade every push in CI")
    assert commands[:3] == [f"grader init-repo {SLUG} lru-cache-practice", "cd lru-cache-practice",
                            f'git init && git add . && git commit -m "Start {SLUG}"'], commands
    refused = typed(commands[0], home, env)
    assert refused.returncode == 2 and not (home / "lru-cache-practice").exists()
    assert f"installed from {clone}, which a CI runner cannot reach" in refused.stderr
    assert "pass --pip-spec" in refused.stderr
    made = typed(f"{commands[0]} --pip-spec {shlex.quote(str(clone))}", home, env)
    assert made.returncode == 0, made.stderr
    repo = home / "lru-cache-practice"
    committed = typed(commands[2], repo, env)
    assert committed.returncode == 0, committed.stdout + committed.stderr

    # The first push: the workflow's run steps, in order, on the stub as committed.
    run = run_workflow(repo, venv, tmp_path, extra_env={"PIP_NO_INDEX": "0"})
    assert [s.returncode for s in run.steps] == [None, None, 0, 0, 0, 0, None, 1], run.log()
    assert f"Successfully installed hidden-grader-{__version__}" in run.step(
        "Install the grader").stdout
    assert (repo / "report.json").is_file() and (repo / "grader-junit.xml").is_file()
    hidden = [line for line in run.annotations() if "title=Hidden test" in line]
    assert hidden and all(line.startswith(f"::error file={MODULE},") for line in hidden)
    assert "Required score: 100% — not reached" in run.summary
