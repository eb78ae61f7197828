"""A submission served by the subject server in a process sandbox, behind a bridge: the set-up
the bridge and testkit unit tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from grader.bridge.client import Subject
from grader.bridge.proxy import Bridge
from grader.harness.isolated import subject_job
from sandbox import ProcessSandbox, SandboxLimits


@contextmanager
def bridged(module: str, source: bytes, test_timeout: float) -> Iterator[Bridge]:
    """A bridge to ``source`` served as ``module``, inside one test of ``test_timeout`` s."""
    backend = ProcessSandbox()
    job = subject_job(module, source, SandboxLimits(wall_timeout=60))
    subject = Subject(lambda: backend.start(job), import_timeout=15)
    try:
        subject.start()
        subject.begin_test(test_timeout)
        yield Bridge(subject)
    finally:
        subject.close()
        backend.close()
