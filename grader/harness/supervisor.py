"""The parent side of a grading run: start the harness child and supervise it.

The parent follows the child's JSON-lines records, so it always knows which test is running:
a test that overruns its limit is killed and marked ``timeout``, a child that dies fails the
test in progress, and in both cases a fresh child carries on with the tests still to run.

In direct mode the submission shares the child (trusted code only). In isolated mode the child
keeps the submission in a sandbox and enforces per-call deadlines itself; the limits here are
a backstop.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.errors import ExerciseInvalid, SandboxUnavailable
from grader.exercise import Exercise
from grader.harness.runner import SuiteOutcome
from grader.report import TestStatus
from grader.scoring import TestRecord

#: How much of the submission's output a report keeps.
OUTPUT_CAP = 16_000
_POLL = 0.01


def child_env() -> dict[str, str]:
    """A predictable environment for pytest children: no plugins from the host, no bytecode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    env.update(
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONHASHSEED="0",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    return env


def _write_spec(workdir: Path, exercise: Exercise, **extra: Any) -> Path:
    """Write the child's spec file (and an empty ini file that shields the suite)."""
    ini = workdir / "pytest.ini"
    ini.write_text("[pytest]\n")
    spec = {
        "hidden_dir": str(exercise.hidden_dir),
        "ini": str(ini),
        "module": exercise.module_name,
        "reference_dir": str(exercise.reference_path.parent),
        **extra,
    }
    path = workdir / f"spec-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec))
    return path


def _read_records(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete JSON lines appended since ``offset``, and the new offset."""
    if not path.exists():
        return [], offset
    with path.open("rb") as stream:
        stream.seek(offset)
        data = stream.read()
    end = data.rfind(b"\n") + 1
    lines = data[:end].decode("utf-8", "replace").splitlines()
    return [json.loads(line) for line in lines if line.strip()], offset + end


def collect_suite(exercise: Exercise) -> list[TestRecord]:
    """List the hidden suite's tests with their categories and hints, without any submission."""
    with tempfile.TemporaryDirectory(prefix="grader-collect-") as tmp:
        results = Path(tmp) / "collect.jsonl"
        spec = _write_spec(Path(tmp), exercise, results=str(results), collect_only=True)
        proc = subprocess.run(
            [sys.executable, "-m", "grader.harness.child", str(spec)],
            env=child_env(),
            cwd=tmp,
            capture_output=True,
            timeout=120,
            check=False,
        )
        records, _ = _read_records(results, 0)
    collected = [r for r in records if r["event"] == "collected"]
    if proc.returncode != 0 or not collected:
        tail = (
            proc.stdout.decode(errors="replace")[-2000:]
            + proc.stderr.decode(errors="replace")[-2000:]
        )
        raise ExerciseInvalid(f"{exercise.slug}: the hidden suite does not collect:\n{tail}")
    tests = [
        TestRecord(nodeid=t["nodeid"], name=t["name"], category=t["category"], hint=t["hint"])
        for t in collected[-1]["tests"]
    ]
    _check_categories(exercise, tests)
    return tests


def _check_categories(exercise: Exercise, tests: list[TestRecord]) -> None:
    """Every hidden test needs a declared category and a unique name."""
    declared = exercise.meta.categories
    for test in tests:
        if test.category not in declared:
            raise ExerciseInvalid(
                f"{exercise.slug}: {test.nodeid} has category {test.category!r}, "
                f"not one of {sorted(declared)}"
            )
    names = [t.name for t in tests]
    if len(set(names)) != len(names):
        raise ExerciseInvalid(f"{exercise.slug}: hidden test names must be unique")


#: Extra time the parent allows an isolated test before it kills the whole child.
ISOLATED_GRACE = 20.0
#: How long an isolated child may take to start the sandbox and import the submission.
ISOLATED_IMPORT = 15.0


class ChildRunner:
    """Runs the hidden suite in a supervised child process, directly or isolated."""

    def __init__(self, backend: str | None = None, image: str | None = None) -> None:
        self.backend = backend
        self.image = image
        self.mode = "isolated" if backend else "direct"

    def _mode_spec(self, exercise: Exercise) -> dict[str, Any]:
        """What the child needs to know about the mode."""
        limits = exercise.meta.limits
        if not self.backend:
            return {"mode": "direct"}
        return {
            "mode": "isolated",
            "backend": self.backend,
            "image": self.image,
            "test_timeout": limits.test_timeout,
            "import_timeout": ISOLATED_IMPORT,
            "limits": {
                "wall_timeout": limits.run_timeout + 60,
                "cpu_seconds": int(limits.run_timeout) + 60,
                "pids": 128,
            },
        }

    def _limits(self, exercise: Exercise) -> tuple[float, float]:
        """(per-test backstop, import backstop) in seconds."""
        test_timeout = exercise.meta.limits.test_timeout
        if self.backend:
            return test_timeout + ISOLATED_GRACE, ISOLATED_IMPORT + ISOLATED_GRACE
        return test_timeout, max(5.0, test_timeout)

    def run(
        self, exercise: Exercise, submission_dir: Path, tests: list[TestRecord]
    ) -> SuiteOutcome:
        """Run every test, restarting the child after a hang or a crash, within the run limit."""
        pending = {t.nodeid: t for t in tests}
        outcome = SuiteOutcome(records=tests)
        limits = exercise.meta.limits
        deadline = time.monotonic() + limits.run_timeout
        with tempfile.TemporaryDirectory(prefix="grader-direct-") as tmp:
            workdir = Path(tmp)
            while pending and not outcome.error and not outcome.timed_out:
                progressed = self._one_child(
                    exercise, submission_dir, workdir, pending, outcome, deadline
                )
                if not progressed:
                    break
        reason = outcome.error or (
            "the whole run hit its time limit"
            if outcome.timed_out
            else "the test process stopped early"
        )
        for record in pending.values():
            _finish(
                record,
                TestStatus.TIMEOUT if outcome.timed_out else TestStatus.ERROR,
                f"not run: {reason}",
            )
        outcome.output = outcome.output[-OUTPUT_CAP:]
        return outcome

    def _one_child(
        self,
        exercise: Exercise,
        submission_dir: Path,
        workdir: Path,
        pending: dict[str, TestRecord],
        outcome: SuiteOutcome,
        deadline: float,
    ) -> bool:
        """Run one child over the pending tests; ``True`` if it settled at least one test."""
        done_before = len(pending)
        results = workdir / f"results-{time.monotonic_ns()}.jsonl"
        test_timeout, import_limit = self._limits(exercise)
        spec = _write_spec(
            workdir,
            exercise,
            results=str(results),
            submission_dir=str(submission_dir),
            **self._mode_spec(exercise),
            deselect=[t.nodeid for t in outcome.records if t.nodeid not in pending],
        )
        log_path = workdir / f"output-{time.monotonic_ns()}.log"
        log = log_path.open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "grader.harness.child", str(spec)],
            env=child_env(),
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        offset, current, started, imported = 0, None, time.monotonic(), False
        try:
            while True:
                exited = proc.poll() is not None
                records, offset = _read_records(results, offset)
                for rec in records:
                    event = rec["event"]
                    if event == "imported":
                        imported = True
                        outcome.sandbox = rec.get("sandbox")
                    elif event == "sandbox":
                        outcome.sandbox = rec.get("name")
                    elif event == "sandbox_error":
                        raise SandboxUnavailable(rec["message"])
                    elif event == "import_failure":
                        outcome.error = rec["message"]
                        outcome.timed_out = rec["status"] == "timeout"
                    elif event == "output":
                        outcome.output += rec.get("text", "")
                    elif event == "import_error":
                        line = f" (line {rec['line']})" if rec.get("line") else ""
                        outcome.error = (
                            f"importing the submission failed{line}: "
                            f"{rec['type']}: {rec['message']}"
                        )
                    elif event == "start":
                        current, started = rec["nodeid"], time.monotonic()
                    elif event == "end" and rec["nodeid"] in pending:
                        _apply(pending.pop(rec["nodeid"]), rec, outcome)
                        current = None
                if exited:
                    break
                now = time.monotonic()
                if current is not None and now - started > test_timeout:
                    _finish(
                        pending.pop(current),
                        TestStatus.TIMEOUT,
                        f"timed out after {test_timeout:g} s",
                    )
                    current = None
                    break
                if not imported and not outcome.error and now - started > import_limit:
                    outcome.error = f"importing the submission took longer than {import_limit:g} s"
                    outcome.timed_out = True
                    break
                if now > deadline:
                    if current is not None:
                        _finish(
                            pending.pop(current),
                            TestStatus.TIMEOUT,
                            "timed out: the whole run hit its time limit",
                        )
                    outcome.timed_out = True
                    break
                time.sleep(_POLL)
        finally:
            killed = proc.poll() is None
            _kill_group(proc)
            log.close()
            if killed and self.backend == "docker":
                _reap_docker()
        code = proc.returncode
        if current is not None and current in pending:
            _finish(
                pending.pop(current),
                TestStatus.ERROR,
                f"the test process died during this test ({_describe_exit(code)})",
            )
        if not imported and not outcome.error and not outcome.timed_out:
            outcome.error = (
                f"the submission stopped the process while importing ({_describe_exit(code)})"
            )
        outcome.output += _tail(log_path)
        return len(pending) < done_before


def _reap_docker() -> None:
    """Remove containers a killed child could not remove itself."""
    import docker

    from sandbox.reaper import reap

    # If the daemon is gone too, the next backend start reaps.
    with contextlib.suppress(docker.errors.DockerException):
        reap(docker.APIClient())


def DirectRunner() -> ChildRunner:
    """A runner for direct mode: trusted code only."""
    return ChildRunner()


def _apply(record: TestRecord, rec: dict[str, Any], outcome: SuiteOutcome) -> None:
    """Copy a child's end-of-test record onto the scored record."""
    record.status = TestStatus(rec["status"])
    record.message = rec.get("message", "")
    record.detail = rec.get("detail", "")
    record.duration = float(rec.get("duration", 0.0))
    if rec.get("output"):
        outcome.output += rec["output"]


def _finish(record: TestRecord, status: TestStatus, message: str) -> None:
    """Settle a test the child could not report on itself."""
    record.status = status
    record.message = message


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child and everything it started; reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _describe_exit(code: int | None) -> str:
    """Say how a process ended, in words."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _tail(path: Path) -> str:
    """The last part of a log file, as text."""
    try:
        data = path.read_bytes()[-OUTPUT_CAP:]
    except FileNotFoundError:
        return ""
    return data.decode("utf-8", "replace")
