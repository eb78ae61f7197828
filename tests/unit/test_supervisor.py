"""The supervisor's promises about its harness child: it never outlives its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

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
