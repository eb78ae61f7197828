"""The ``grader`` command line: output when piped, exit codes, and golden text reports."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader import __version__
from grader.cli import app
from grader.exercise import Exercise, Visibility
from grader.harness.supervisor import DirectRunner
from grader.validation import validate_exercise

from ..conftest import FIXTURE_EXERCISES
from ..golden import check_golden

runner = CliRunner()
FIX = ["--exercises", str(FIXTURE_EXERCISES)]


ENTRY = [sys.executable, "-c", "from grader.cli import main; main()"]


def grader(*args: str, cwd: Path | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point, as a user would (``env`` adds to the environment)."""
    return subprocess.run([*ENTRY, *args], capture_output=True, text=True, timeout=120,
                          check=False, cwd=cwd, env={**os.environ, **(env or {})})


def on_a_terminal(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the entry point with standard output on a pseudo-terminal; its status and output."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*ENTRY, *args], stdout=follower, stderr=subprocess.DEVNULL,
                            env={**os.environ, "COLUMNS": "120", **(env or {})})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


# SGR sequences that set a colour (30-37, 38;..., 39, 40-49, 90-97, 100-107).
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def test_list_prints_one_line_per_exercise_when_piped() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "slug\ttitle\tdifficulty\tsummary"
    assert [line.split("\t")[0] for line in lines[1:]] == [
        "circuit-breaker", "lru-cache", "skip-list", "token-bucket"]


def test_show_prints_the_statement() -> None:
    result = runner.invoke(app, ["show", "adder", *FIX])
    assert result.exit_code == 0
    assert result.stdout.startswith("# Adder")


def test_start_copies_stub_tests_and_statement(tmp_path: Path) -> None:
    target = tmp_path / "work"
    result = runner.invoke(app, ["start", "adder", str(target), *FIX])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "adder.py", "test_adder.py"]
    again = runner.invoke(app, ["start", "adder", str(target), *FIX])
    assert again.exit_code == 2
    assert "would overwrite" in again.output


def visible_tests(folder: str, capfd: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``grader test FOLDER``: its exit code and what pytest printed."""
    code = runner.invoke(app, ["test", folder]).exit_code
    return code, capfd.readouterr().out


def test_test_takes_the_folder_relative_to_where_it_is_typed(
        tmp_path: Path, adder: Exercise, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    # As the README, `grader start` and the quickstart say: `grader test my-lru` from the parent.
    monkeypatch.chdir(tmp_path)
    start = runner.invoke(app, ["start", "adder", "my-adder", *FIX])
    assert start.exit_code == 0, start.output
    assert "`grader test my-adder`" in start.stdout
    code, out = visible_tests("my-adder", capfd)
    assert (code, "not found" in out, "1 failed" in out) == (1, False, True), out
    (tmp_path / "my-adder" / "adder.py").write_text(adder.reference_path.read_text())
    assert visible_tests("my-adder", capfd)[0] == 0


def test_visible_tests_fail_on_the_stub_and_pass_when_solved(
        tmp_path: Path, adder: Exercise, capfd: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "work"
    runner.invoke(app, ["start", "adder", str(target), *FIX])
    assert visible_tests(str(target), capfd)[0] == 1
    (target / "adder.py").write_text(adder.reference_path.read_text())
    assert visible_tests(str(target), capfd)[0] == 0


def test_grade_exit_codes_and_json(adder: Exercise, tmp_path: Path) -> None:
    passed = grader("grade", "adder", str(adder.reference_path), "--sandbox", "none",
                    "--format", "json", *FIX)
    assert passed.returncode == 0, passed.stderr
    report = json.loads(passed.stdout)
    assert (report["status"], report["score"], report["visibility"]) == ("passed", 100.0, "hints")
    assert "detail" not in passed.stdout
    failed = grader("grade", "adder", str(adder.stub_path), "--sandbox", "none", *FIX)
    assert failed.returncode == 1


def test_grade_text_report_is_golden(tmp_path: Path) -> None:
    module = tmp_path / "adder.py"
    module.write_text("def add(a, b):\n    return a +\n")
    result = grader("grade", "adder", str(module), "--sandbox", "none", *FIX)
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if not line.startswith("adder: error")]
    check_golden("reports/syntax_error.txt", "\n".join(lines) + "\n")
    assert result.stdout.startswith("adder: error  score 0/100 (0.0%)")


def test_grade_failing_text_lists_failures_with_hints(adder: Exercise, tmp_path: Path) -> None:
    module = tmp_path / "adder.py"
    module.write_text(adder.reference_path.read_text().replace("x >= t", "x > t"))
    result = grader("grade", "adder", str(module), "--sandbox", "none", *FIX)
    assert result.returncode == 1
    body = result.stdout.split("\n", 1)[1]
    check_golden("reports/failed.txt", body)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grade", "nope", "x.py", *FIX], "error: unknown exercise 'nope'; known: adder"),
        (["show", "nope", *FIX], "error: unknown exercise 'nope'"),
        (["list", "--exercises", "/nonexistent/dir"], "error: exercise directory not found"),
    ],
)
def test_grader_faults_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = grader(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_exits_2() -> None:
    assert grader("grade").returncode == 2


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: tmp / "my-adder", "error: no such file or folder: {tmp}/my-adder"),
    (lambda tmp: tmp, "error: no adder.py in {tmp} (it holds no .py file)"),
    (lambda tmp: (tmp / "add.py").write_text("x = 1\n") and tmp / "add.py",
     "error: the submission must be named adder.py, not add.py"),
    (lambda tmp: (tmp / "add.py").write_text("x = 1\n") and tmp,
     "error: no adder.py in {tmp} (it holds add.py)"),
])
def test_a_path_that_is_not_the_module_is_a_one_line_usage_error(make, message: str,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    result = runner.invoke(app, ["grade", "adder", str(make(tmp_path)), "--sandbox", "none", *FIX])
    assert result.exit_code == 2
    assert result.stdout == ""  # no report of 0 points
    assert result.stderr.strip().splitlines() == [message.format(tmp=tmp_path)]


def test_submit_of_a_missing_path_is_a_one_line_usage_error(tmp_path: Path) -> None:
    """Nothing is sent (the server's address is a closed loopback port): the path is wrong."""
    missing = tmp_path / "my-adder"
    result = runner.invoke(app, ["submit", "adder", str(missing), "--server", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"error: no such file or folder: {missing}"]


def test_what_is_in_the_module_is_still_graded(tmp_path: Path) -> None:
    (tmp_path / "adder.py").write_text("")
    result = runner.invoke(app, ["grade", "adder", str(tmp_path), "--sandbox", "none", *FIX])
    assert result.exit_code == 1
    assert result.stdout.startswith("adder: error  score 0/100")
    assert "adder.py is empty" in result.stdout
    assert "(None)" not in result.stdout


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"hidden-grader {__version__}\n"


BOX = re.compile("[\u2500-\u257f]")  # box-drawing characters


@pytest.mark.parametrize("args", [["--help"], ["report", "--help"], ["grade", "adder", *FIX]])
def test_help_and_usage_errors_are_plain_text_when_piped(args: list[str]) -> None:
    result = grader(*args)
    assert result.returncode == (2 if "--help" not in args else 0)
    text = result.stdout + result.stderr
    assert "Usage: " in text
    assert not BOX.search(text), text
    assert "\x1b[" not in text
    if args == ["--help"]:
        assert "--version" in text
    else:
        assert "Missing argument" in text or "convert" in text


def test_doctor_is_plain_text_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox.doctor import Check

    checks = [Check("docker daemon", False, "not reachable", "run grader doctor"),
              Check("bubblewrap", True, "/usr/bin/bwrap works")]
    monkeypatch.setattr("sandbox.doctor.run_checks", lambda image, runtime: checks)
    monkeypatch.setattr("grader.cli.sandbox_cmds._plugin_checks", lambda: [], raising=False)
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:3] == ["check\tstatus\tdetail\tfix",
                         "docker daemon\tFAIL\tnot reachable\trun grader doctor",
                         "bubblewrap\tok\t/usr/bin/bwrap works\t"]
    assert not BOX.search(result.stdout)


def test_force_color_colours_piped_output_and_no_color_wins(tmp_path: Path) -> None:
    report, _ = saved_report(tmp_path)
    args = ["report", "convert", str(report)]
    plain = runner.invoke(app, args)
    forced = runner.invoke(app, args, env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    both = runner.invoke(app, args, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert plain.exit_code == forced.exit_code == both.exit_code == 0
    assert "\x1b[" not in plain.stdout
    assert COLOUR.search(forced.stdout), forced.stdout
    assert not COLOUR.search(both.stdout), both.stdout
    assert "category\tpassed\tpoints" in forced.stdout  # piped: the layout stays plain


def test_no_color_on_a_terminal(adder: Exercise) -> None:
    args = ["grade", "adder", str(adder.stub_path), "--sandbox", "none", *FIX]
    status, coloured = on_a_terminal(*args)
    assert status == 1 and COLOUR.search(coloured) and BOX.search(coloured)
    status, plain = on_a_terminal(*args, env={"NO_COLOR": "1"})
    assert status == 1 and BOX.search(plain)  # still a table, without colour
    assert not COLOUR.search(plain), plain


@pytest.mark.parametrize("args", [
    ["grade", "adder", "{reference}", "--sandbox", "none", "--format", "json"],
    ["grade", "adder", "{stub}", "--sandbox", "none"],
])
def test_a_reader_that_stops_reading_ends_the_command_quietly(args: list[str],
                                                               adder: Exercise) -> None:
    # Like `grader grade ... | head -1` whose head has already exited: the pipe is closed before
    # the report is written.
    paths = {"reference": str(adder.reference_path), "stub": str(adder.stub_path)}
    proc = subprocess.Popen([*ENTRY, *(a.format(**paths) for a in args), *FIX],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert "Exception ignored" not in stderr


def test_docker_fallback_warning_is_printed_once_and_names_a_command_that_exists(
        adder: Exercise) -> None:
    env = {"DOCKER_HOST": "unix:///nonexistent/docker.sock", "GRADER_SANDBOX": ""}
    result = grader("grade", "adder", str(adder.reference_path), *FIX, env=env)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "Docker sandbox unavailable" in line]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith("warning: ")
    assert "grader doctor" in warnings[0] and "setup-docker.sh" not in warnings[0]


def test_schema_prints_json() -> None:
    result = runner.invoke(app, ["schema"])
    assert json.loads(result.stdout)["title"] == "Report"


def test_validate_reports_every_check(adder: Exercise) -> None:
    result = validate_exercise(adder, DirectRunner, runs=2, min_tests=5, min_mutants=2)
    assert result.ok, [c for c in result.checks if not c.ok]
    subjects = [c.subject for c in result.checks]
    assert subjects[:5] == ["layout", "hidden tests", "mutants", "visible tests on reference",
                            "visible tests on stub"]
    assert "mutant strict_boundary" in subjects and "stub" in subjects
    killed = {c.subject: c.result for c in result.checks if c.subject.startswith("mutant ")}
    assert killed["mutant subtracts"].endswith("failed; killed by test_add_integers")
    assert killed["mutant strict_boundary"].endswith("killed by test_ticks_since_counts_boundary")


def test_validate_cli_fails_when_the_suite_is_too_small() -> None:
    # The shared fixture must not gain a timing profile (other tests rely on test_timeout).
    result = grader("validate", "adder", "--runs", "1", "--no-record-timing", *FIX)
    assert result.returncode == 1
    assert "adder\thidden tests\t>= 25\t5\tFAIL" in result.stdout


def test_validate_catches_a_mutant_that_survives(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "adder"
    shutil.copytree(FIXTURE_EXERCISES / "adder", root)
    with (root / "mutants.toml").open("a") as toml:
        toml.write('\n[[mutant]]\nname = "harmless"\nbug = "none really."\n'
                   'edit = [{ replace = "The sum of a and b.", with = "a + b" }]\n')
    result = validate_exercise(Exercise(root), DirectRunner, runs=1, min_tests=1, min_mutants=1)
    survivor = next(c for c in result.checks if c.subject == "mutant harmless")
    assert not survivor.ok and not result.ok
    assert survivor.result == "100/100 passed; survived every test"


def test_validate_in_a_sandbox_demands_that_both_modes_agree(adder: Exercise) -> None:
    from grader.harness.supervisor import ChildRunner

    result = validate_exercise(adder, lambda: ChildRunner(backend="process"), runs=1,
                               min_tests=5, min_mutants=2, compare_direct=True)
    assert result.ok, [c for c in result.checks if not c.ok]
    graded = [c for c in result.checks if c.subject == "stub" or c.subject.startswith("mutant ")]
    assert graded and all(c.result.endswith("; direct agrees") for c in graded)


def test_a_broken_command_plugin_does_not_break_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer

    import grader.cli as cli

    class Broken:
        name = "service"

        def load(self) -> None:
            raise ImportError("No module named 'api.commands'")

    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [Broken()])
    fresh = typer.Typer()
    cli._register(fresh)
    assert "the 'service' commands are unavailable" in capsys.readouterr().err
    assert CliRunner().invoke(fresh, ["list"]).exit_code == 0


class ScriptedRunner:
    """A suite runner whose n-th run fails the tests named in ``failures[n]`` (last repeats)."""

    mode = "scripted"

    def __init__(self, *failures: set[str]) -> None:
        self.failures, self.calls = list(failures), 0

    def run(self, exercise, submission_dir, tests):  # type: ignore[no-untyped-def]
        from grader.harness.runner import SuiteOutcome
        from grader.report import TestStatus

        failing = self.failures[min(self.calls, len(self.failures) - 1)]
        self.calls += 1
        for test in tests:
            test.status = TestStatus.FAILED if test.name in failing else TestStatus.PASSED
        return SuiteOutcome(records=tests)


def test_modes_agree_when_a_racy_mutant_can_score_the_same_in_both(adder: Exercise) -> None:
    from grader.submission import from_path
    from grader.validation import _modes_agree, grade

    racy = {"test_add_integers", "test_add_negative"}
    isolated = ScriptedRunner(racy)
    direct = ScriptedRunner({"test_add_integers"}, {"test_add_integers"}, racy)
    first = grade(adder, from_path(adder.reference_path, "adder.py"), isolated)
    agree, note = _modes_agree(adder, adder.reference_path, isolated, direct, first)
    assert agree and note == "direct agrees (its score varies from run to run)"


def test_modes_disagree_when_their_scores_never_meet(adder: Exercise) -> None:
    from grader.submission import from_path
    from grader.validation import AGREEMENT_RETRIES, _modes_agree, grade

    isolated = ScriptedRunner({"test_add_integers"})
    direct = ScriptedRunner({"test_add_integers", "test_add_negative"})
    first = grade(adder, from_path(adder.reference_path, "adder.py"), isolated)
    agree, note = _modes_agree(adder, adder.reference_path, isolated, direct, first)
    assert not agree and note == "direct differs: 60"
    assert direct.calls == 1 + AGREEMENT_RETRIES


def saved_report(tmp_path: Path) -> tuple[Path, str]:
    """A saved public report of a failed run (the formats' scenario)."""
    from grader.formats import render
    from grader.public import to_public

    from .test_formats import CANARY, scenarios

    text = render(to_public(scenarios()["failed"], Visibility.HINTS, CANARY), "json")
    path = tmp_path / "report.json"
    path.write_text(text)
    return path, text


def test_hints_are_the_first_paragraph_of_the_docstring() -> None:
    from grader.harness.plugin import first_paragraph

    doc = """Putting a new key into a full cache
        evicts the least recently used entry.

        Details for the suite's readers.
        """
    assert first_paragraph(doc) == (
        "Putting a new key into a full cache evicts the least recently used entry.")
    assert first_paragraph("\n\n   One line.  ") == "One line."
    assert first_paragraph(None) == ""


def test_validate_lints_the_hints(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "exercises"
    shutil.copytree(FIXTURE_EXERCISES / "adder", root / "adder")
    hidden = root / "adder" / "hidden" / "test_basics.py"
    hidden.write_text(hidden.read_text()
                      .replace('"""add returns the sum of two integers."""',
                               '"""`add` returns the sum\n    of two integers."""')
                      .replace('"""add handles negative numbers."""',
                               '"""Negative numbers are added too"""'))
    result = runner.invoke(app, ["validate", "adder", "--runs", "1", "--exercises", str(root)])
    row = next(line for line in result.stdout.splitlines() if line.startswith("adder\thints\t"))
    assert row.endswith("\tFAIL")
    assert "2 not: test_add_negative: does not end with . ! or ?" in row
    assert "test_add_strings_concatenate: a sentence does not start with a capital letter" in row
    assert "test_add_integers" not in row  # backticked code may open a sentence


@pytest.mark.parametrize(("hint", "problem"), [
    ("A full cache evicts the least recently used entry.", None),
    ("`get` returns the value. It refreshes recency!", None),
    ("Keys are compared, e.g. strings with strings. Is it sorted?", None),
    ("get returns the value.", "a sentence does not start with a capital letter: 'get returns the value.'"),
    ("A full cache evicts. then it stops.", "a sentence does not start with a capital letter: 'then it stops.'"),
    ("A full cache evicts", "does not end with . ! or ?"),
    ("", "no hint (the test has no docstring)"),
])
def test_hint_lint_wants_complete_sentences(hint: str, problem: str | None) -> None:
    from grader.hint_lint import hint_problem

    assert hint_problem(hint) == problem
