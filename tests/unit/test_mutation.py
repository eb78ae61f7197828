"""Machine mutation (`grader validate --mutate`): operators, stable ids, the equivalents file,
and runs over the counting fixture with a strong and a weak hidden suite."""

from __future__ import annotations

import ast
import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.catalogue import Catalogue
from grader.errors import ExerciseInvalid
from grader.exercise import Exercise
from grader.mutation.equivalents import EQUIVALENTS_FILE, load_equivalents
from grader.mutation.generate import MachineMutant, generate_mutants, select
from grader.mutation.run import grade_mutant, mutate_exercise
from grader.mutation.sites import find_sites
from grader.mutation.text import SourceText, apply_edits
from tests.conftest import FIXTURES

MUTATION_FIXTURES = FIXTURES / "mutation"
EXERCISES = Path(__file__).resolve().parents[2] / "exercises"

SAMPLE = '''"""A sample module."""

import threading

LIMIT = 3


class Box:
    """A box."""

    def __init__(self, size: int = 2) -> None:
        self._lock = threading.Lock()
        self.size: int = size
        self.items: list[int] = []
        self.open = True

    def full(self) -> bool:
        """Whether the box is full."""
        return len(self.items) >= self.size

    def put(self, item: int) -> None:
        with self._lock:
            if item is None or not item:
                raise ValueError(f"bad item {item + 1}")
            self.items.append(item * 2)
            self.size -= 1
'''


def mutations(source: str) -> dict[str, tuple[str, str]]:
    """Each mutant's id -> (description, the changed line of the mutant)."""
    found = {}
    for m in generate_mutants(source):
        changed = [line[1:] for line in m.diff.splitlines() if line.startswith("+")][1:]
        found[m.id] = (m.description, changed[0].strip() if changed else "")
    return found


def test_each_operator_mutates_the_sample_as_documented() -> None:
    got = mutations(SAMPLE)
    assert got["cmp:Box.full:0"] == ("`>=` -> `>`", "return len(self.items) > self.size")
    assert got["cmp:Box.full:1"] == ("`>=` -> `<`", "return len(self.items) < self.size")
    assert got["return:Box.full:0"][1] == "return None"
    assert got["return:Box.full:1"][1] == "return not (len(self.items) >= self.size)"
    assert got["cmp:Box.put:0"][1] == "if item is not None or not item:"
    assert got["bool:Box.put:0"][1] == "if item is None and not item:"
    assert got["bool:Box.put:1"] == ("drop `not`", "if item is None or item:")
    assert got["arith:Box.put:0"][1] == "self.items.append(item / 2)"
    assert got["arith:Box.put:1"] == ("`-=` -> `+=`", "self.size += 1")
    assert got["lock:Box.put:0"] == ("`with self._lock` removed", "if True:")
    assert got["stmt:Box.put:0"][1] == "pass"  # the raise
    assert got["const:<module>:0"][1] == "LIMIT = 4"
    assert {got[f"const:<module>:{i}"][1] for i in range(4)} == {
        "LIMIT = 4",
        "LIMIT = 2",
        "LIMIT = 0",
        "LIMIT = None",
    }
    assert got["const:Box.__init__:0"][1] == "def __init__(self, size: int = 3) -> None:"
    assert got["const:Box.__init__:3"] == ("`True` -> `False`", "self.open = False")
    assert "const:Box.__init__:4" not in got  # no None for a bool: it would repeat False
    assert got["const:Box.put:0"][1] == "self.items.append(item * 3)"


def test_docstrings_fstrings_imports_and_code_outside_functions_are_not_deleted() -> None:
    got = mutations(SAMPLE)
    changed = " ".join(line for _, line in got.values())
    assert "import" not in changed and '"""' not in changed
    assert not any("item + 1" in line or "item - 1" in line for _, line in got.values())
    assert not any(i.startswith(("stmt:<module>", "stmt:Box:")) for i in got)


def test_annotations_are_not_mutated() -> None:
    source = (
        "def g(x: Annotated[int, 5] = 0) -> Annotated[int, 7]:\n"
        "    y: Annotated[int, 9] = x\n"
        "    z: Annotated[int, 11]\n"
        "    return y\n"
    )
    got = mutations(source)
    assert sorted(got) == ["const:g:0", "const:g:1", "return:g:0", "stmt:g:0"]
    assert {got["const:g:0"][1], got["const:g:1"][1]} == {
        "def g(x: Annotated[int, 5] = 1) -> Annotated[int, 7]:",
        "def g(x: Annotated[int, 5] = -1) -> Annotated[int, 7]:",
    }


def test_lock_removal_drops_only_the_lock_of_several_context_managers() -> None:
    source = (
        "def f(self):\n"
        "    with open('x') as fh, self._state_lock:\n"
        "        return fh\n"
        "    with self._cond as held:\n"
        "        return held\n"
    )
    got = mutations(source)
    locks = {i: line for i, (_, line) in got.items() if i.startswith("lock:")}
    assert locks == {"lock:f:0": "with open('x') as fh:"}  # `as held` keeps its binding


def test_ids_are_stable_when_an_unrelated_line_is_inserted_above() -> None:
    before = {m.id: m.description for m in generate_mutants(SAMPLE)}
    shifted = SAMPLE.replace(
        "LIMIT = 3\n", "LIMIT = 3\n# a comment\n\n\ndef helper(x):\n    return x + 1\n"
    )
    after = {m.id: m.description for m in generate_mutants(shifted)}
    assert {i: d for i, d in after.items() if ":helper:" not in i} == before
    lines = {m.id: m.line for m in generate_mutants(shifted)}
    assert (
        lines["cmp:Box.full:0"]
        == {m.id: m.line for m in generate_mutants(SAMPLE)}["cmp:Box.full:0"] + 5
    )


@pytest.mark.parametrize(
    "reference", sorted(EXERCISES.glob("*/reference/*.py")), ids=lambda p: p.parent.parent.name
)
def test_every_mutation_of_the_real_references_compiles(reference: Path) -> None:
    text = reference.read_text()
    src = SourceText(text)
    sites = find_sites(ast.parse(text), src)
    broken = []
    for site in sites:
        try:
            compile(apply_edits(text, site.edits), reference.name, "exec")
        except SyntaxError as exc:
            broken.append((site.operator, site.function, site.description, str(exc)))
    assert sites and not broken
    mutants = generate_mutants(text, reference.name)
    assert len({m.id for m in mutants}) == len(mutants)
    assert len({m.source for m in mutants}) == len(mutants)


def test_sample_is_deterministic_and_keeps_its_picks_when_others_go() -> None:
    mutants = generate_mutants(SAMPLE)
    picked = select(mutants, sample=5)
    assert [m.id for m in picked] == [m.id for m in select(mutants, sample=5)]
    assert len(picked) == 5 and [m for m in mutants if m in picked] == picked
    rest = [m for m in mutants if m.id != picked[0].id]
    assert {m.id for m in picked[1:]} <= {m.id for m in select(rest, sample=5)}
    assert {m.operator for m in select(mutants, operators={"lock", "bool"})} == {"lock", "bool"}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[[equivalent]\nid = 'x'", "not valid TOML"),
        ("[[equivalent]]\nid = 'cmp:f:0'\n", "equivalent.0.reason: Field required"),
        ("[[equivalent]]\nid = 'cmp f 0'\nreason = 'r'\n", "equivalent.0.id: String should match"),
        ("[[equivalent]]\nid = 'cmp:f:0'\nreason = '''a\nb'''\n", "must be one non-blank line"),
        ("[[equivalent]]\nid = 'cmp:f:0'\nreason = 'r'\nwhy = 'x'\n", "why: Extra inputs"),
        ("[[equivalent]]\nid = 'cmp:f:0'\nreason = 'r'\n" * 2, "ids must be unique: cmp:f:0"),
        ("[equivalent]\nid = 'cmp:f:0'\n", "equivalent: Input should be a valid list"),
    ],
)
def test_a_malformed_equivalents_file_is_a_clear_error(
    tmp_path: Path, content: str, problem: str
) -> None:
    (tmp_path / EQUIVALENTS_FILE).write_text(content)
    with pytest.raises(ExerciseInvalid, match=EQUIVALENTS_FILE) as caught:
        load_equivalents(tmp_path)
    assert problem in str(caught.value)


def test_equivalents_load_and_a_missing_file_lists_none(tmp_path: Path) -> None:
    assert load_equivalents(tmp_path) == {}
    (tmp_path / EQUIVALENTS_FILE).write_text(
        '[[equivalent]]\nid = "cmp:Box.full:0"\nreason = "  sizes are never equal  "\n'
    )
    assert load_equivalents(tmp_path) == {"cmp:Box.full:0": "sizes are never equal"}


WEAK_SUITE = '''import pytest

CANARY = "GRADER-CANARY-counting-6d0a3e1f5b7c9d2e"
pytestmark = pytest.mark.category("basics")


def test_counts_one_value_inside(subject):
    """A value inside the range counts."""
    assert subject.count_between([3], 2, 5) == 1
'''


@pytest.fixture
def weak(tmp_path: Path) -> Path:
    """A copy of the counting fixture whose suite misses both boundaries."""
    root = tmp_path / "counting"
    shutil.copytree(MUTATION_FIXTURES / "counting", root)
    (root / "hidden" / "test_counting.py").write_text(WEAK_SUITE)
    return root


def test_a_strong_suite_kills_every_mutant() -> None:
    exercise = Catalogue(MUTATION_FIXTURES).get("counting")
    run = mutate_exercise(exercise, workers=2)
    assert run.ok and not run.problem and run.score == 1.0
    assert len(run.killed) == run.generated == len(run.results) >= 12
    assert {r.mutant.operator for r in run.results} >= {"cmp", "const", "arith", "stmt", "return"}


def test_a_weak_suite_lets_mutants_survive_and_the_command_exits_1(weak: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from grader.cli import main; main()",
            "validate",
            "--mutate",
            "counting",
            "--operators",
            "cmp,arith,return",
            "--exercises",
            str(weak.parent),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    (run,) = json.loads(result.stdout)["exercises"]
    assert [s["id"] for s in run["survivors"]] == ["cmp:count_between:0", "cmp:count_between:2"]
    assert (
        "-        if low <= value < high:\n+        if low < value < high:\n"
        in (run["survivors"][0]["diff"])
    )
    assert run["survived"] == 2 and run["killed"] == run["graded"] - 2 and not run["ok"]


def test_equivalents_are_discounted_and_stale_entries_fail(weak: Path) -> None:
    (weak / EQUIVALENTS_FILE).write_text(
        '[[equivalent]]\nid = "cmp:count_between:0"\nreason = "r"\n'
        '[[equivalent]]\nid = "cmp:count_between:2"\nreason = "r"\n'
        '[[equivalent]]\nid = "cmp:count_between:1"\nreason = "killed, so not equivalent"\n'
        '[[equivalent]]\nid = "cmp:gone:0"\nreason = "no such mutant"\n'
    )
    run = mutate_exercise(Exercise(weak), workers=2, operators={"cmp"})
    assert [r.mutant.id for r in run.equivalent] == ["cmp:count_between:0", "cmp:count_between:2"]
    assert not run.survived and len(run.killed) == 1 and run.score == 1.0
    assert dict(run.stale) == {
        "cmp:gone:0": "no such mutant (the reference changed?)",
        "cmp:count_between:1": "listed as equivalent, but killed by test_counts_one_value_inside",
    }
    assert not run.ok


def test_a_mutant_that_hangs_is_killed_by_its_timeout() -> None:
    exercise = Catalogue(MUTATION_FIXTURES).get("counting")
    (mutant,) = [
        m
        for m in generate_mutants(exercise.reference_path.read_text())
        if m.id == "stmt:count_between:1"
    ]
    hanging = mutant.source.replace("pass", "while True:\n                pass")
    result = grade_mutant(exercise, dataclasses.replace(mutant, source=hanging))
    assert result.killed and result.timed_out


def grader(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point, as a user would."""
    return subprocess.run(
        [sys.executable, "-c", "from grader.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--operators", "cmp,nope"], "unknown operator(s) nope; known: cmp, arith"),
        (["--tamper"], "--mutate grades in direct mode: drop --tamper"),
    ],
)
def test_bad_mutate_options_exit_2(args: list[str], message: str) -> None:
    result = grader(
        "validate", "--mutate", "counting", *args, "--exercises", str(MUTATION_FIXTURES)
    )
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())


def test_a_malformed_equivalents_file_stops_the_command_with_one_line(weak: Path) -> None:
    (weak / EQUIVALENTS_FILE).write_text("[[equivalent]]\nid = 'cmp:count_between:0'\n")
    result = grader("validate", "--mutate", "counting", "--exercises", str(weak.parent))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "equivalent-mutants.toml: equivalent.0.reason: Field required" in result.stderr


def test_a_grading_fault_is_reported_and_fails_the_run_without_losing_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exercise = Catalogue(MUTATION_FIXTURES).get("counting")

    def broken(exercise: Exercise, mutant: MachineMutant) -> None:
        raise KeyError("test_x")

    monkeypatch.setattr("grader.mutation.run.grade_mutant", broken)
    run = mutate_exercise(exercise, workers=2, operators={"return", "arith"})
    assert len(run.faults) == len(run.results) == 2
    assert {r.fault for r in run.faults} == {"KeyError: 'test_x'"}
    assert not run.killed and not run.survived and run.score is None and not run.ok


def test_no_mutant_is_graded_while_the_reference_fails(weak: Path) -> None:
    suite = weak / "hidden" / "test_counting.py"
    suite.write_text(suite.read_text().replace("== 1", "== 2"))
    run = mutate_exercise(Exercise(weak), workers=2)
    assert run.problem.startswith("the reference scores 0/100 (failed)")
    assert not run.results and not run.ok and run.generated == 13
