"""The supervisor's promises about its harness child: it never outlives its parent, and a line
of its results that is no event is a clear fault of the harness, not a crash."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.errors import HarnessFault
from grader.exercise import Exercise
from grader.grading import grade
from grader.harness import collection, launch
from grader.harness.runner import SuiteRunner
from grader.harness.supervisor import ChildRunner, DirectRunner, child_env, collect_suite
from grader.submission import from_text

from ..conftest import FIXTURE_EXERCISES

SLOW_SUBMISSION = textwrap.dedent('''
    import time

    def add(a, b):
        time.sleep(100)
        return a + b

    class Counter:
        def __init__(self, clock):
            time.sleep(100)
        def tick(self):
            pass
        def ticks_since(self, t):
            return 0
''')


def children_of(pid: int) -> list[int]:
    """Pids whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def is_fork_server(pid: int) -> bool:
    """Whether ``pid`` is a fork server (``grader.harness.zygote``)."""
    try:
        return b"grader.harness.zygote" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("backend", [None, "process"])
def test_harness_child_dies_with_its_parent(tmp_path: Path, backend: str | None) -> None:
    module = tmp_path / "adder.py"
    module.write_text(SLOW_SUBMISSION)
    script = textwrap.dedent(f'''
        from pathlib import Path
        from grader.catalogue import Catalogue
        from grader.grading import grade
        from grader.harness.supervisor import ChildRunner
        from grader.submission import from_path
        exercise = Catalogue(Path({str(FIXTURE_EXERCISES)!r})).get("adder")
        grade(exercise, from_path(Path({str(module)!r}), "adder.py"), ChildRunner(backend={backend!r}))
    ''')
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 20
        harness: list[int] = []
        while not harness and time.monotonic() < deadline:
            time.sleep(0.2)
            # The grading child, not the short-lived one that only collects the suite.
            harness = [p for p in children_of(parent.pid)
                       if b"grader.harness.child" in (cmd := Path(f"/proc/{p}/cmdline").read_bytes())
                       and b"grader-collect-" not in cmd]
        assert harness, "the harness child never started"
        time.sleep(1.0)  # let it get into the suite
        descendants = children_of(harness[0])
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while alive(harness[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(harness[0]), "the harness child outlived its parent"
        time.sleep(0.5)
        assert [p for p in descendants if alive(p)] == [], "its sandbox outlived it"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_child_whose_parent_died_while_it_started_ends_too(adder: Exercise, tmp_path: Path) -> None:
    """The spec names the parent, so a child that only starts up after its parent died ends."""
    (tmp_path / "adder.py").write_text(SLOW_SUBMISSION)
    gone = subprocess.Popen(["true"])
    gone.wait()
    spec = launch.write_spec(tmp_path, adder, results=str(tmp_path / "results.jsonl"),
                             submission_dir=str(tmp_path), mode="direct")
    spec.write_text(spec.read_text().replace(f'"parent": {os.getpid()}', f'"parent": {gone.pid}'))
    child = subprocess.run(launch.child_command(spec), env=launch.child_env(), cwd=tmp_path,
                           capture_output=True, timeout=30, check=False)
    assert child.returncode == 3, child.stderr.decode()[-2000:]


def test_direct_runner_is_a_child_runner_without_a_backend() -> None:
    factory: Callable[[], SuiteRunner] = DirectRunner
    runner = factory()
    assert isinstance(runner, DirectRunner) and isinstance(runner, ChildRunner)
    assert (runner.mode, runner.backend, runner.image) == ("direct", None, None)
    isolated = ChildRunner(backend="process", image="runner:latest")
    assert (isolated.mode, isolated.backend, isolated.image) == ("isolated", "process", "runner:latest")
    assert ChildRunner().mode == "direct"


def test_the_supervisor_still_offers_what_moved() -> None:
    assert (child_env, collect_suite) == (launch.child_env, collection.collect_suite)


FORGER = textwrap.dedent('''
    import json, sys
    with open(json.load(open(sys.argv[1]))["results"], "a") as results:
        results.write("not an event\\n")

    def add(a, b):
        return a + b
''')


def test_a_line_that_is_no_event_is_a_harness_fault(adder: Exercise) -> None:
    """Only trusted code shares the direct child, so a forged line is the harness's fault."""
    with pytest.raises(HarnessFault, match=r"malformed event: not JSON .*'not an event'"):
        grade(adder, from_text(FORGER.encode(), "adder.py"), DirectRunner())
    time.sleep(0.2)
    # (A fork server an earlier test started for this process may be there: it is no child.)
    left = [p for p in children_of(os.getpid()) if alive(p) and not is_fork_server(p)]
    assert left == [], "the child outlived the fault"


def test_a_run_whose_tests_ask_for_the_reference_boots_it_from_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Collection marks the tests that take the ``reference`` fixture; a child whose pending
    tests include one is told to boot the reference's sandbox at once, not at that test."""
    from grader import grading
    from grader.catalogue import Catalogue
    from grader.harness import supervisor
    exercise = Catalogue().get("lru-cache")
    tests = grading.suite_tests(exercise)
    asking = {t.name for t in tests if t.uses_reference}
    assert "test_get_cost_does_not_grow_with_size" in asking
    assert "test_len_counts_the_entries" not in asking and len(asking) < len(tests)
    specs: list[dict[str, object]] = []
    real_write_spec = supervisor.write_spec

    def recorded(workdir: Path, exercise: Exercise, **extra: object) -> Path:
        specs.append(extra)
        return real_write_spec(workdir, exercise, **extra)

    monkeypatch.setattr(supervisor, "write_spec", recorded)
    plain = [dataclasses.replace(t, uses_reference=False) for t in tests]
    ChildRunner().run(exercise, exercise.reference_path.parent, plain)
    ChildRunner().run(exercise, exercise.reference_path.parent, tests)
    assert [spec["reference_at_start"] for spec in specs] == [False, True]
