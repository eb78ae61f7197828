"""The fork server: harness children forked from a loaded process grade exactly as fresh ones,
hold none of its sockets, end with the grader, and a lost fork server costs one test, not
the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.exercise import Exercise
from grader.grading import grade
from grader.harness.forks import ForkServer, ForkServerLost
from grader.harness.supervisor import ChildRunner
from grader.report import Report, RunStatus
from grader.submission import from_path

from ..conftest import FIXTURE_EXERCISES
from .test_grading_direct import STUB_CLASS, statuses
from .test_supervisor import SLOW_SUBMISSION, alive, children_of, is_fork_server

WriteModule = Callable[..., Path]


@pytest.fixture
def forks() -> Iterator[ForkServer]:
    server = ForkServer()
    yield server
    server.close()


def graded(exercise: Exercise, path: Path, forks: ForkServer) -> Report:
    return grade(exercise, from_path(path, exercise.meta.module), ChildRunner(forks=forks))


def test_children_are_forked_by_the_fork_server(
    adder: Exercise, write_module: WriteModule, forks: ForkServer
) -> None:
    """The child's parent is the fork server, not the grader (which a fallback to a fresh
    interpreter would make it), and the grading is the same: full marks."""
    source = "import os\nprint('parent', os.getppid())\n" + adder.reference_path.read_text()
    report = graded(adder, write_module(source), forks)
    assert report.status is RunStatus.PASSED and report.score == 100
    # Nothing else: a forked child prints what a fresh one would (here, only this line).
    assert forks.pid is not None and report.output == f"parent {forks.pid}\n"
    assert forks.children_cpu > 0


def test_a_forked_child_has_the_environment_of_now(
    adder: Exercise, write_module: WriteModule, forks: ForkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child gets the environment a fresh one would get at its start, not the one the fork
    server was started with."""
    graded(adder, adder.reference_path, forks)  # the server is up
    monkeypatch.setenv("GRADER_FORK_PROBE", "set-later")
    source = "import os\nprint('probe', os.environ.get('GRADER_FORK_PROBE'))\n"
    report = graded(adder, write_module(source + adder.reference_path.read_text()), forks)
    assert "probe set-later\n" in report.output, report.output


def test_a_forked_child_reports_how_it_ended(
    adder: Exercise, write_module: WriteModule, forks: ForkServer
) -> None:
    """Exit codes cross the fork server as ``Popen`` gives them, and a test that hangs is
    killed alone (the supervisor kills the forked child's process group)."""
    source = (
        "import os, time\n\ndef add(a, b):\n    if a == 'a':\n        os._exit(0)\n"
        "    if a == -2:\n        time.sleep(60)\n    return a + b\n" + STUB_CLASS
    )
    report = graded(adder, write_module(source), forks)
    died = next(t for t in report.tests if t.name == "test_add_strings_concatenate")
    assert died.message == "the test process died during this test (exit code 0)"
    assert statuses(report)["test_add_negative"] == "timeout"
    assert statuses(report)["test_add_integers"] == "passed"
    exited = graded(adder, write_module("import os\nos._exit(3)\n"), forks)
    assert exited.message == "the submission stopped the process while importing (exit code 3)"


def test_a_forked_child_holds_none_of_the_fork_servers_sockets(
    adder: Exercise, write_module: WriteModule, forks: ForkServer
) -> None:
    """A direct-mode child opens no socket itself: any it holds came from the fork server
    (its control socket to the grader, its signal wake-up pair)."""
    source = (
        "import os\n"
        "links = [os.readlink(f'/proc/self/fd/{fd}') for fd in os.listdir('/proc/self/fd')\n"
        "         if os.path.exists(f'/proc/self/fd/{fd}')]\n"
        "print('sockets', sum(link.startswith('socket:') for link in links))\n"
    ) + adder.reference_path.read_text()
    report = graded(adder, write_module(source), forks)
    assert forks.pid is not None
    assert "sockets 0\n" in report.output, report.output


def test_losing_the_fork_server_costs_the_test_in_progress_only(
    adder: Exercise, write_module: WriteModule, forks: ForkServer, tmp_path: Path
) -> None:
    """A fork server killed mid-test: its child is killed (its end would never be reported,
    and this one would not even end as an orphan), that test is an error, and the run carries
    on with a new fork server."""
    marker = tmp_path / "in-add"
    source = textwrap.dedent(f"""
        import os, time
        from pathlib import Path

        os._exit = lambda code: None  # nor does it end when it notices it is an orphan

        def add(a, b):
            if a == -2:
                Path({str(marker)!r}).write_text(str(os.getpid()))
                while True:  # not even the test's alarm ends it
                    try:
                        time.sleep(60)
                    except BaseException:
                        pass
            return a + b
    """) + STUB_CLASS
    path = write_module(source)
    result: list[Report] = []
    grading = threading.Thread(target=lambda: result.append(graded(adder, path, forks)))
    grading.start()
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    first = forks.pid
    assert marker.exists() and first is not None
    os.kill(first, signal.SIGKILL)
    grading.join(30)
    assert not grading.is_alive(), "the grading never ended"
    report = result[0]
    hung = next(t for t in report.tests if t.name == "test_add_negative")
    assert hung.message == "the test process died during this test (killed by SIGKILL)"
    assert statuses(report)["test_add_strings_concatenate"] == "passed"  # after it
    assert forks.pid not in (None, first)
    hung_child = int(marker.read_text())
    deadline = time.monotonic() + 2
    while alive(hung_child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(hung_child), "the lost fork server's child was left running"


def test_a_fork_server_restarted_before_its_loss_was_noticed_takes_its_children_along(
    forks: ForkServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next spawn finds the server dead before its listener reported the loss: the old
    server's children are killed and ended, not left for ever unfinished."""
    monkeypatch.setattr(forks, "_lose", lambda *_args: None)  # the listener notices nothing
    with (tmp_path / "out").open("wb") as out:
        sleeper = forks.spawn(["-c", "import time; time.sleep(60)"], tmp_path, out.fileno(), False)
        first = forks.pid
        assert first is not None and alive(sleeper.pid)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while alive(first) and time.monotonic() < deadline:
            time.sleep(0.01)
        quick = forks.spawn(["-c", "pass"], tmp_path, out.fileno(), False)
    assert sleeper.wait(timeout=5) == -signal.SIGKILL
    assert not alive(sleeper.pid)
    assert quick.wait(timeout=10) == 0 and forks.pid not in (None, first)


def test_closing_the_fork_server_ends_its_children(tmp_path: Path) -> None:
    """``close`` leaves no child running, nor one whose end a caller would wait for in vain."""
    server = ForkServer()
    with (tmp_path / "out").open("wb") as out:
        sleeper = server.spawn(["-c", "import time; time.sleep(60)"], tmp_path, out.fileno(), False)
    assert alive(sleeper.pid)
    server.close()
    assert sleeper.wait(timeout=5) == -signal.SIGKILL
    deadline = time.monotonic() + 2
    while alive(sleeper.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(sleeper.pid)


def test_a_fork_server_that_cannot_start_is_replaced_by_fresh_interpreters(
    adder: Exercise, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``spawn`` raises ``ForkServerLost`` when the server does not come up; the supervisor
    then starts the child the old way and the grading is unaffected."""
    server = ForkServer()
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the server dies at once
    with pytest.raises(ForkServerLost, match="did not start"):
        server.spawn(["-m", "grader.harness.child", "x"], Path("/"), 1, False)
    monkeypatch.undo()
    broken = ForkServer()

    def lost(*_: object) -> None:
        raise ForkServerLost("gone")

    monkeypatch.setattr(broken, "spawn", lost)
    report = graded(adder, adder.reference_path, broken)
    assert report.status is RunStatus.PASSED and report.score == 100


def test_the_fork_server_and_its_child_end_with_the_grader(tmp_path: Path) -> None:
    module = tmp_path / "adder.py"
    module.write_text(SLOW_SUBMISSION)
    script = textwrap.dedent(f"""
        from pathlib import Path
        from grader.catalogue import Catalogue
        from grader.grading import grade
        from grader.harness.forks import ForkServer
        from grader.harness.supervisor import ChildRunner
        from grader.submission import from_path
        exercise = Catalogue(Path({str(FIXTURE_EXERCISES)!r})).get("adder")
        runner = ChildRunner(forks=ForkServer())
        grade(exercise, from_path(Path({str(module)!r}), "adder.py"), runner)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 20
        harness: list[int] = []
        server: list[int] = []
        while not harness and time.monotonic() < deadline:
            time.sleep(0.2)
            server = [p for p in children_of(parent.pid) if is_fork_server(p)]
            harness = children_of(server[0]) if server else []
        assert harness, "no harness child was forked"
        time.sleep(1.0)  # into the suite
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while (alive(server[0]) or alive(harness[0])) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(server[0]), "the fork server outlived the grader"
        assert not alive(harness[0]), "the harness child outlived the grader"
    finally:
        if parent.poll() is None:
            parent.kill()
