"""The harness child process: run the hidden suite under pytest against one submission.

Invoked as ``python -m grader.harness.child SPEC.json``. In *direct* mode the submission is
imported here; in *isolated* mode it runs in a sandbox under the subject server and the tests
see proxies. Every event (``grader.harness.events``) goes to the results file as one flushed
JSON line, so the parent can follow progress and survive our death.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.util
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from grader.bridge.subject_server import describe_import_error, fewer_collections
from grader.harness import orphans
from grader.harness.deadlines import AlarmDeadlines
from grader.harness.events import (
    HarnessEvent,
    Sink,
    SubmissionImported,
    SubmissionImportRaised,
    encode,
)
from grader.harness.orphans import ON_ORPHANED
from grader.testkit import Kit

if TYPE_CHECKING:
    from grader.harness.plugin import HarnessPlugin

# pytest and the plugin are imported only where needed: isolated mode starts its sandbox first,
# so that the container's start overlaps pytest's own import and collection.


def _writer(stream: TextIO) -> Sink:
    """A sink that writes one flushed JSON line per event."""

    def sink(event: HarnessEvent) -> None:
        stream.write(encode(event) + "\n")
        stream.flush()

    return sink


def _no_subject() -> Any:
    """Collection never needs the submission."""
    raise RuntimeError("no submission while collecting")


def _pytest_args(spec: dict[str, Any]) -> list[str]:
    """Arguments that isolate the hidden suite from any ini file or conftest around it."""
    args = [
        spec["hidden_dir"],
        "-q",
        "-p",
        "no:cacheprovider",
        "-c",
        spec["ini"],
        "--rootdir",
        spec["hidden_dir"],
        "--confcutdir",
        spec["hidden_dir"],
    ]
    for nodeid in spec.get("deselect", []):
        args += ["--deselect", nodeid]
    if spec.get("stop_at_first_failure"):
        args.append("--exitfirst")
    return args


def _quiet_pytest(args: list[str], plugin: HarnessPlugin) -> int:
    """Run pytest with its terminal report discarded: records go through the plugin only."""
    import pytest

    real_stdout = sys.stdout
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        sys.stdout = devnull
        try:
            return int(pytest.main(args, plugins=[plugin]))
        finally:
            sys.stdout = real_stdout


def run_direct(spec: dict[str, Any], sink: Sink) -> None:
    """Import the submission here and run the suite against it."""
    sys.path.insert(0, spec["submission_dir"])
    # Each submission is staged in a directory of its own: its bytecode would only fill the
    # cache (launch.bytecode_dir).
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        module = importlib.import_module(spec["module"])
    except BaseException as exc:
        sink(SubmissionImportRaised(**describe_import_error(exc, spec["module"])))
        return
    finally:
        sys.dont_write_bytecode = writes
    sink(SubmissionImported())
    from grader.harness.plugin import HarnessPlugin

    plugin = HarnessPlugin(
        subject=lambda: module,
        kit=Kit,
        sink=sink,
        reference=lambda: _reference(spec),
        session=AlarmDeadlines(spec.get("deadlines", {}), spec.get("test_timeout", 0.0)),
    )
    _quiet_pytest(_pytest_args(spec), plugin)


def _reference(spec: dict[str, Any]) -> Any:
    """The reference solution imported under a name of its own, next to the submission."""
    name = f"_grader_reference_{spec['module']}"
    if name not in sys.modules:
        path = Path(spec["reference_dir"]) / f"{spec['module']}.py"
        loader_spec = importlib.util.spec_from_file_location(name, path)
        assert loader_spec is not None and loader_spec.loader is not None
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        loader_spec.loader.exec_module(module)
    return sys.modules[name]


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    """End this child when its parent is gone: nobody would read its results.

    A killed service must not leave gradings (and their sandboxes) running as orphans.
    """
    while os.getppid() == parent:
        time.sleep(interval)
    for cleanup in ON_ORPHANED:
        with contextlib.suppress(Exception):
            cleanup()
    os._exit(3)


def main(spec_path: str) -> int:
    """Run one pass as the spec describes; the exit code is informative only."""
    fewer_collections()  # and the plugin freezes what collection loaded
    spec = json.loads(Path(spec_path).read_text())
    # The spec names the parent: one that died while we were starting up is already gone.
    parent = orphans.PARENT or spec.get("parent", os.getppid())
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    with open(spec["results"], "a", encoding="utf-8") as stream:
        sink = _writer(stream)
        if spec.get("collect_only"):
            from grader.harness.plugin import HarnessPlugin

            plugin = HarnessPlugin(subject=_no_subject, kit=Kit, sink=sink)
            return _quiet_pytest([*_pytest_args(spec), "--collect-only"], plugin)
        if spec.get("mode") == "isolated":
            from grader.harness.isolated import run_isolated

            run_isolated(spec, sink, lambda plugin: _quiet_pytest(_pytest_args(spec), plugin))
        else:
            run_direct(spec, sink)
        return 0


def exit_now(code: int) -> NoReturn:
    """End the process once its exit handlers ran, without tearing the interpreter down.

    Everything the parent reads is written by then (the results file is closed, stdio is
    flushed here, threads that are not daemons are waited for as at a normal exit); freeing
    the memory of pytest and the suite object by object cost 35-80 ms per grading.
    """
    for thread in threading.enumerate():
        if not thread.daemon and thread is not threading.current_thread():
            thread.join()
    atexit._run_exitfuncs()
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main(sys.argv[1]))
