"""Practice repositories (``grader init-repo``) and saved reports (``grader report ...``)."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from grader import __version__
from grader.catalogue import Catalogue
from grader.cli import app
from grader.errors import GraderError
from grader.exercise import Exercise, Visibility
from grader.formats import FORMATS, render
from grader.practice import (
    GITLAB_PATH,
    WORKFLOW_PATH,
    Options,
    practice_files,
    write_practice_repo,
)
from grader.practice.install_spec import Installed, SpecUndecided, spec_from
from grader.practice.install_spec import installed as real_installed
from grader.public import to_public

from ..conftest import FIXTURE_EXERCISES
from .test_formats import CANARY, scenarios

runner = CliRunner()
FIX = ["--exercises", str(FIXTURE_EXERCISES)]

#: The actions the workflow may use, pinned to full commit SHAs of these releases (checked
#: against the SHAs the releases' tags point to).
PINNED = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("0b93645e9fea7318ecaed2b359559ac225c90a2b", "v5.3.0"),
    "actions/upload-artifact": ("b4b15b8c7c6ac21ea08fcf65892d2ee8f75cf882", "v4.4.3"),
}


def shipped() -> list[Exercise]:
    return Catalogue().all()


#: How the grader is installed in most tests here: from an index, the common case for a user.
FROM_AN_INDEX = Installed(__version__, None)


@pytest.fixture(autouse=True)
def installed_from_an_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """The running grader as if installed from a package index (tests that care say otherwise)."""
    monkeypatch.setattr("grader.practice.install_spec.installed", lambda: FROM_AN_INDEX)


def workflow(exercise: Exercise, options: Options | None = None) -> tuple[str, dict[Any, Any]]:
    text = practice_files(exercise, options)[WORKFLOW_PATH]
    doc: dict[Any, Any] = yaml.safe_load(text)
    return text, doc


def run_steps(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (job,) = doc["jobs"].values()
    return {step["name"]: step for step in job["steps"]}


# --- the repository's files --------------------------------------------------------------------


@pytest.mark.parametrize("exercise", shipped(), ids=lambda e: e.slug)
def test_practice_repo_has_statement_stub_tests_and_ci(exercise: Exercise) -> None:
    found = practice_files(exercise, Options(gitlab=True))
    visible = [PurePosixPath(p.name) for p in exercise.visible_tests()]
    assert set(found) == {PurePosixPath("README.md"), PurePosixPath(exercise.meta.module),
                          PurePosixPath(".gitignore"), WORKFLOW_PATH, GITLAB_PATH, *visible}
    assert found[PurePosixPath(exercise.meta.module)] == exercise.stub_path.read_text()
    for test in exercise.visible_tests():
        assert found[PurePosixPath(test.name)] == test.read_text()
    readme = found[PurePosixPath("README.md")]
    assert readme.startswith(exercise.statement.rstrip("\n"))
    assert "## How grading works" in readme and "GRADER_TOKEN" in readme
    assert f"grader grade {exercise.slug} {exercise.meta.module}" in readme
    assert "python -m pytest" in readme
    for text in found.values():
        assert "@@" not in text


@pytest.mark.parametrize("exercise", shipped(), ids=lambda e: e.slug)
def test_practice_repo_never_contains_the_hidden_suite(exercise: Exercise) -> None:
    for text in practice_files(exercise, Options(gitlab=True)).values():
        assert exercise.meta.canary not in text
    reference = exercise.reference_path.read_text()
    assert reference not in practice_files(exercise).values()


def test_default_pip_spec_is_how_this_grader_was_installed() -> None:
    _, doc = workflow(Catalogue().get("lru-cache"))
    assert doc["env"]["GRADER_PIP_SPEC"] == f"hidden-grader=={__version__}"


def vcs(url: str, commit: str = "0123abcd" * 5, **extra: object) -> Installed:
    return Installed(__version__, {"url": url, "vcs_info": {"vcs": "git", "commit_id": commit,
                                                            "requested_revision": "main"}, **extra})


@pytest.mark.parametrize(("found", "spec"), [
    (FROM_AN_INDEX, f"hidden-grader=={__version__}"),
    (vcs("https://github.com/acme/hidden-grader"),
     "git+https://github.com/acme/hidden-grader@" + "0123abcd" * 5),
    (vcs("https://github.com/acme/mono", subdirectory="grader"),
     "git+https://github.com/acme/mono@" + "0123abcd" * 5 + "#subdirectory=grader"),
    (vcs("https://user:s3cret@git.example.com/acme/hidden-grader.git"),
     "git+https://git.example.com/acme/hidden-grader.git@" + "0123abcd" * 5),
    (vcs("ssh://git@github.com/acme/hidden-grader.git"),
     "git+ssh://git@github.com/acme/hidden-grader.git@" + "0123abcd" * 5),
    (Installed(__version__, {"url": "https://files.example.com/hidden_grader-0.1.0-py3-none-any.whl",
                             "archive_info": {"hashes": {"sha256": "ab" * 32}}}),
     "https://files.example.com/hidden_grader-0.1.0-py3-none-any.whl#sha256=" + "ab" * 32),
])
def test_pip_spec_repeats_how_the_grader_was_installed(found: Installed, spec: str) -> None:
    assert spec_from(found) == spec
    assert "s3cret" not in spec


@pytest.mark.parametrize(("found", "said"), [
    (Installed(__version__, {"url": "file:///home/me/hidden-grader", "dir_info": {"editable": True}}),
     "this grader is an editable install of /home/me/hidden-grader, which a CI runner cannot "
     "reach; pass --pip-spec"),
    (Installed(__version__, {"url": "file:///home/me/hidden-grader", "dir_info": {}}),
     "this grader is installed from /home/me/hidden-grader, which a CI runner cannot reach"),
    (Installed(__version__, {"url": "file:///tmp/hidden_grader-0.1.0-py3-none-any.whl",
                             "archive_info": {}}),
     "installed from /tmp/hidden_grader-0.1.0-py3-none-any.whl, which a CI runner cannot reach"),
    (vcs("file:///home/me/hidden-grader"), "installed from /home/me/hidden-grader"),
    (None, "hidden-grader is not installed"),
])
def test_a_local_install_cannot_be_repeated_in_ci(found: Installed | None, said: str) -> None:
    with pytest.raises(SpecUndecided) as caught:
        spec_from(found)
    assert said in str(caught.value)


def test_the_running_grader_is_found_by_its_installer_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Run from a checkout, Python also sees the checkout's *.egg-info (build metadata: no
    # INSTALLER, no direct_url.json) before the installed grader; what pip recorded must win.
    checkout = tmp_path / "checkout" / "hidden_grader.egg-info"
    checkout.mkdir(parents=True)
    (checkout / "PKG-INFO").write_text(f"Metadata-Version: 2.1\nName: hidden-grader\nVersion: {__version__}\n")
    site = tmp_path / "site" / f"hidden_grader-{__version__}.dist-info"
    site.mkdir(parents=True)
    (site / "METADATA").write_text(f"Metadata-Version: 2.1\nName: hidden-grader\nVersion: {__version__}\n")
    (site / "INSTALLER").write_text("pip\n")
    (site / "direct_url.json").write_text('{"url": "file:///work/checkout", "dir_info": {"editable": true}}')
    monkeypatch.setattr("sys.path", [str(tmp_path / "checkout"), str(tmp_path / "site")])
    found = real_installed()
    assert found is not None and found.direct_url == {
        "url": "file:///work/checkout", "dir_info": {"editable": True}}
    with pytest.raises(SpecUndecided, match="editable install of /work/checkout"):
        spec_from(found)


def test_workflow_parses_and_is_configured_by_env() -> None:
    exercise = Catalogue().get("lru-cache")
    _, doc = workflow(exercise, Options(pip_spec="-e ../grader", min_percent=80))
    triggers = doc["on"] if "on" in doc else doc[True]  # PyYAML reads a bare `on` as true
    assert "push" in triggers
    assert doc["permissions"] == {"contents": "read"}
    assert doc["env"] == {
        "GRADER_EXERCISE": "lru-cache", "GRADER_SUBMISSION": "lru_cache.py",
        "GRADER_PIP_SPEC": "-e ../grader", "GRADER_MIN_PERCENT": "80", "GRADER_SANDBOX": "none",
    }
    steps = run_steps(doc)
    assert list(steps) == [
        "Check out", "Set up Python", "Install the grader", "Run the visible tests",
        "Grade against the hidden tests", "Publish the results", "Keep the reports",
        "Require a passing score",
    ]
    assert steps["Install the grader"]["run"].strip() == "python -m pip install $GRADER_PIP_SPEC"
    grade = steps["Grade against the hidden tests"]["run"]
    assert ('grader submit "$GRADER_EXERCISE" "$GRADER_SUBMISSION" --server "$GRADER_URL"'
            in grade)
    assert 'grader grade "$GRADER_EXERCISE" "$GRADER_SUBMISSION"' in grade
    assert grade.count("--format json > report.json") == 2
    publish = steps["Publish the results"]["run"]
    assert '--format github --file "$GRADER_SUBMISSION"' in publish
    assert "--format junit > grader-junit.xml" in publish
    artifact = steps["Keep the reports"]
    assert artifact["if"] == "${{ !cancelled() }}"
    assert "grader-junit.xml" in artifact["with"]["path"]
    assert '--min-percent "$GRADER_MIN_PERCENT"' in steps["Require a passing score"]["run"]


def test_workflow_uses_only_actions_pinned_to_commits() -> None:
    text, doc = workflow(Catalogue().get("lru-cache"))
    used = [step["uses"] for step in run_steps(doc).values() if "uses" in step]
    assert len(used) == len(PINNED)
    for line in (line.strip() for line in text.splitlines()):
        if not line.startswith(("uses:", "- uses:")):
            continue
        found = re.fullmatch(r"(?:- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)",
                             line)
        assert found, f"not pinned to a full commit SHA with its version: {line}"
        assert PINNED[found[1]] == (found[2], found[3])


def test_secrets_reach_only_the_grading_step() -> None:
    text, doc = workflow(Catalogue().get("lru-cache"))
    assert "secrets." not in json.dumps(doc["env"])
    for name, step in run_steps(doc).items():
        if "run" in step:
            assert "${{" not in step["run"], f"{name}: expressions in a script invite injection"
        env = json.dumps(step.get("env", {}))
        assert ("secrets." in env) is (name == "Grade against the hidden tests")
    grade_env = run_steps(doc)["Grade against the hidden tests"]["env"]
    assert grade_env == {"GRADER_URL": "${{ secrets.GRADER_URL }}",
                         "GRADER_TOKEN": "${{ secrets.GRADER_TOKEN }}"}
    assert "persist-credentials: false" in text


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_ci_scripts_are_valid_bash(ci: str, tmp_path: Path) -> None:
    files = practice_files(Catalogue().get("lru-cache"), Options(gitlab=True))
    if ci == "github":
        scripts = [s["run"] for s in run_steps(yaml.safe_load(files[WORKFLOW_PATH])).values()
                   if "run" in s]
    else:
        scripts = list(yaml.safe_load(files[GITLAB_PATH])["grade"]["script"])
    for number, script in enumerate(scripts):
        path = tmp_path / f"{ci}{number}.sh"
        path.write_text(script)
        proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, f"{script}\n{proc.stderr}"


def test_gitlab_ci_reports_junit_and_grades_like_the_workflow() -> None:
    files = practice_files(Catalogue().get("lru-cache"), Options(gitlab=True, min_percent=50))
    doc = yaml.safe_load(files[GITLAB_PATH])
    assert doc["variables"]["GRADER_MIN_PERCENT"] == "50"
    job = doc["grade"]
    assert job["artifacts"]["reports"]["junit"] == "grader-junit.xml"
    assert job["artifacts"]["when"] == "always"
    script = "\n".join(job["script"])
    assert 'grader submit "$GRADER_EXERCISE" "$GRADER_SUBMISSION" --server "$GRADER_URL"' in script
    assert '--min-percent "$GRADER_MIN_PERCENT"' in script
    assert GITLAB_PATH not in practice_files(Catalogue().get("lru-cache"))


@pytest.mark.parametrize(("options", "problem"), [
    (Options(pip_spec='hidden-grader"; rm -rf /'), "unusable pip spec"),
    (Options(pip_spec="hidden-grader\nx"), "unusable pip spec"),
    (Options(min_percent=101), "percentage from 0 to 100"),
])
def test_options_that_would_break_the_workflow_are_refused(options: Options,
                                                           problem: str) -> None:
    with pytest.raises(GraderError, match=problem):
        practice_files(Catalogue().get("lru-cache"), options)


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    exercise = Catalogue().get("lru-cache")
    (tmp_path / "lru_cache.py").write_text("# my work\n")
    with pytest.raises(GraderError, match="would overwrite"):
        write_practice_repo(exercise, tmp_path)
    assert (tmp_path / "lru_cache.py").read_text() == "# my work\n"
    assert not (tmp_path / "README.md").exists()
    written = write_practice_repo(exercise, tmp_path, force=True)
    assert tmp_path / ".github/workflows/grade.yml" in written
    assert (tmp_path / "lru_cache.py").read_text() == exercise.stub_path.read_text()


# --- the command line --------------------------------------------------------------------------


def test_init_repo_writes_the_repository(tmp_path: Path) -> None:
    target = tmp_path / "practice"
    result = runner.invoke(app, ["init-repo", "adder", str(target), "--gitlab",
                                 "--min-percent", "75", *FIX])
    assert result.exit_code == 0, result.output
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == [
        ".github/workflows/grade.yml", ".gitignore", ".gitlab-ci.yml", "README.md", "adder.py",
        "test_adder.py"]
    assert 'GRADER_MIN_PERCENT: "75"' in (target / ".github/workflows/grade.yml").read_text()
    assert "GRADER_URL and GRADER_TOKEN" in result.output
    again = runner.invoke(app, ["init-repo", "adder", str(target), *FIX])
    assert again.exit_code == 2 and "would overwrite" in again.output
    forced = runner.invoke(app, ["init-repo", "adder", str(target), "--force", *FIX])
    assert forced.exit_code == 0, forced.output


def test_init_repo_takes_the_spec_from_how_the_grader_was_installed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("grader.practice.install_spec.installed",
                        lambda: vcs("https://github.com/acme/hidden-grader"))
    result = runner.invoke(app, ["init-repo", "adder", str(tmp_path / "repo"), *FIX])
    assert result.exit_code == 0, result.output
    workflow_text = (tmp_path / "repo" / WORKFLOW_PATH).read_text()
    assert f'GRADER_PIP_SPEC: "git+https://github.com/acme/hidden-grader@{"0123abcd" * 5}"' in (
        workflow_text)


def test_init_repo_of_a_local_install_needs_a_spec_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    editable = Installed(__version__, {"url": "file:///src/hidden-grader",
                                       "dir_info": {"editable": True}})
    monkeypatch.setattr("grader.practice.install_spec.installed", lambda: editable)
    refused = runner.invoke(app, ["init-repo", "adder", str(tmp_path / "repo"), *FIX])
    assert refused.exit_code == 2
    assert refused.stderr.startswith(
        "error: this grader is an editable install of /src/hidden-grader, which a CI runner "
        "cannot reach; pass --pip-spec")
    assert not (tmp_path / "repo").exists()
    spec = "git+https://github.com/acme/hidden-grader@v0.1.0"
    given = runner.invoke(app, ["init-repo", "adder", str(tmp_path / "repo"), "--pip-spec", spec,
                                *FIX])
    assert given.exit_code == 0, given.output
    assert f'GRADER_PIP_SPEC: "{spec}"' in (tmp_path / "repo" / WORKFLOW_PATH).read_text()


def test_practice_repo_says_the_bundled_hidden_suites_are_public() -> None:
    found = practice_files(Catalogue().get("lru-cache"), Options(gitlab=True))
    for path in (WORKFLOW_PATH, GITLAB_PATH, PurePosixPath("README.md")):
        text = " ".join(found[path].replace("#", " ").split())
        assert "bundled with the grader are public in its source code" in text, path
        assert "operator's own" in text, path


def test_init_repo_of_an_unknown_exercise_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init-repo", "nope", str(tmp_path / "x"), *FIX])
    assert result.exit_code != 0
    assert not (tmp_path / "x").exists()


def saved(tmp_path: Path, name: str = "failed") -> tuple[Path, str]:
    public = to_public(scenarios()[name], Visibility.HINTS, CANARY)
    path = tmp_path / "report.json"
    path.write_text(render(public, "json"))
    return path, render(public, "json")


@pytest.mark.parametrize("fmt", FORMATS)
def test_report_convert_matches_render(fmt: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    path, _ = saved(tmp_path)
    public = to_public(scenarios()["failed"], Visibility.HINTS, CANARY)
    result = runner.invoke(app, ["report", "convert", str(path), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.stdout == render(public, fmt)


def test_report_convert_reads_stdin_and_prints_text(tmp_path: Path) -> None:
    _, text = saved(tmp_path)
    result = runner.invoke(app, ["report", "convert", "-"], input=text)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("lru-cache: failed  score 65/100 (65.0%)")


def test_report_convert_github_appends_the_step_summary(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = saved(tmp_path)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = runner.invoke(app, ["report", "convert", str(path), "-f", "github"])
    assert result.exit_code == 0, result.output
    public = to_public(scenarios()["failed"], Visibility.HINTS, CANARY)
    assert summary.read_text() == "earlier step\n" + render(public, "markdown")
    assert result.stdout.startswith("::error title=Hidden test failed")


@pytest.mark.parametrize(("content", "problem"), [
    ("not json", "is not a grading report"),
    ('{"schema_version": "1.0"}', "is not a grading report"),
])
def test_report_convert_refuses_what_is_not_a_report(content: str, problem: str,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(content)
    result = runner.invoke(app, ["report", "convert", str(path), "-f", "junit"])
    assert result.exit_code == 2
    assert problem in result.output


def test_report_convert_refuses_a_full_report(tmp_path: Path) -> None:
    path = tmp_path / "full.json"
    path.write_text(scenarios()["failed"].model_dump_json())
    result = runner.invoke(app, ["report", "convert", str(path), "-f", "junit"])
    assert result.exit_code == 2
    assert "full report with grader-only detail" in result.output
    assert "GRADER-ONLY-DETAIL" not in result.output


def test_report_convert_refuses_another_schema_major(tmp_path: Path) -> None:
    path, text = saved(tmp_path)
    data = json.loads(text)
    data["schema_version"] = "2.0"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["report", "convert", str(path)])
    assert result.exit_code == 2
    assert "report schema 2.0" in result.output


def test_report_convert_of_a_missing_file_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "convert", str(tmp_path / "none.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.output


@pytest.mark.parametrize(("minimum", "code"), [("65", 0), ("64.9", 0), ("65.1", 1), ("100", 1)])
def test_report_check_compares_the_percentage(minimum: str, code: int, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    path, _ = saved(tmp_path)
    result = runner.invoke(app, ["report", "check", str(path), "--min-percent", minimum])
    assert result.exit_code == code, result.output
    verdict = "reached" if code == 0 else "not reached"
    assert result.stdout.strip().endswith(f"required: {verdict}")
    assert "::error" not in result.stdout


def test_report_check_in_github_actions_annotates_and_summarises(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = saved(tmp_path)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = runner.invoke(app, ["report", "check", str(path), "--min-percent", "90"])
    assert result.exit_code == 1
    assert "::error title=Score below the required minimum::" in result.stdout
    assert "❌ **Required score: 90% — not reached** (scored 65.0%)" in summary.read_text()


def test_grade_prints_new_formats(adder: Exercise) -> None:
    junit = runner.invoke(app, ["grade", "adder", str(adder.reference_path), "--sandbox", "none",
                                "--format", "junit", *FIX])
    assert junit.exit_code == 0, junit.output
    root = ET.fromstring(junit.stdout.split("\n", 1)[1])  # after the XML declaration
    assert root.find("testsuite") is not None and root.get("failures") == "0"
    exercism = runner.invoke(app, ["grade", "adder", str(adder.stub_path), "--sandbox", "none",
                                   "-f", "exercism", *FIX])
    assert exercism.exit_code == 1
    assert json.loads(exercism.stdout)["status"] in ("fail", "error")


def test_report_convert_github_attaches_annotations_to_the_given_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    path, _ = saved(tmp_path)
    result = runner.invoke(app, ["report", "convert", str(path), "-f", "github",
                                 "--file", "lru_cache.py"])
    assert result.exit_code == 0, result.output
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 3
    assert all(line.startswith("::error file=lru_cache.py,title=") for line in errors)


def test_grade_attaches_github_annotations_to_the_module_as_given(
        adder: Exercise, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "adder.py").write_text(adder.stub_path.read_text())
    result = runner.invoke(app, ["grade", "adder", "work", "--sandbox", "none", "-f", "github",
                                 *FIX])
    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert errors and all(line.startswith("::error file=work/adder.py,") for line in errors)


@pytest.mark.parametrize("spec", [
    "https://grader.example.com/client/hidden_grader-0.1.0-py3-none-any.whl#sha256=" + "ab" * 32,
    "git+https://github.com/acme/mono@v1#subdirectory=grader",
    "https://grader.example.com/client/hidden%2Dgrader-0.1.0.tar.gz",
])
def test_url_specs_a_grading_server_might_publish_are_accepted(spec: str) -> None:
    _, doc = workflow(Catalogue().get("lru-cache"), Options(pip_spec=spec))
    assert doc["env"]["GRADER_PIP_SPEC"] == spec
