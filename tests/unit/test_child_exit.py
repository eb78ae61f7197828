"""How the harness child ends: its exit handlers run, its output is flushed and its threads
are waited for, but the interpreter is not torn down (``grader.harness.child.exit_now``)."""

from __future__ import annotations

import subprocess
import sys

from grader.harness.launch import child_env


def run_snippet(body: str) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a fresh interpreter that then ends through ``exit_now(3)``."""
    code = f"import atexit, sys, threading, time\n{body}\nfrom grader.harness.child import exit_now\nexit_now(3)\n"
    return subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=30
    )


def test_exit_now_keeps_the_code_runs_exit_handlers_and_flushes_output() -> None:
    done = run_snippet(
        "atexit.register(lambda: print('handler ran'))\n"
        "sys.stdout.write('buffered, no newline')\n"
        "sys.stderr.write('to stderr')"
    )
    assert done.returncode == 3
    assert done.stdout == "buffered, no newlinehandler ran\n"
    assert done.stderr == "to stderr"


def test_exit_now_waits_for_threads_that_are_not_daemons() -> None:
    done = run_snippet(
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    print('thread finished', flush=True)\n"
        "threading.Thread(target=late).start()"
    )
    assert done.returncode == 3
    assert done.stdout == "thread finished\n"


def test_exit_now_skips_the_interpreter_teardown() -> None:
    """An object's finaliser that only a teardown would run does not run."""
    done = run_snippet(
        "class Noisy:\n"
        "    def __del__(self):\n"
        "        print('torn down', flush=True)\n"
        "keep = Noisy()"
    )
    assert done.returncode == 3
    assert "torn down" not in done.stdout
