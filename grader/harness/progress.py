"""What the parent makes of a harness child's events: which test is in progress, whether the
submission is imported, and the final record of each test the child settles."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import assert_never

from grader.errors import SandboxUnavailable
from grader.harness.events import (
    HarnessEvent,
    ReferenceReleased,
    SandboxFailed,
    SandboxSelected,
    SubjectOutput,
    SubmissionImported,
    SubmissionImportRaised,
    SubmissionStartFailed,
    SuiteCollected,
    TestEnded,
    TestStarted,
    WarmWanted,
)
from grader.harness.runner import SuiteOutcome
from grader.report import TestStatus
from grader.scoring import TestRecord


@dataclass
class ChildProgress:
    """What the parent knows of one child so far; :meth:`take` applies each of its events."""

    #: The tests no child has settled yet, by node id (settled ones are popped).
    pending: dict[str, TestRecord]
    outcome: SuiteOutcome
    #: When the test in progress started (before any test: when the child started).
    started: float = field(default_factory=time.monotonic)
    current: str | None = None
    imported: bool = False

    def take(self, event: HarnessEvent) -> None:
        """Apply one event to the outcome; a sandbox that failed raises ``SandboxUnavailable``."""
        outcome = self.outcome
        match event:
            case SubmissionImported(sandbox=sandbox):
                self.imported = True
                outcome.sandbox = sandbox
            case SandboxSelected(name=name):
                outcome.sandbox = name
            case SandboxFailed(message=message):
                raise SandboxUnavailable(message)
            case SubmissionStartFailed(status=status, message=message):
                outcome.error = message
                outcome.timed_out = status == "timeout"
            case SubjectOutput(text=text):
                outcome.output += text
            case SubmissionImportRaised(type=kind, message=message, line=line):
                where = f" (line {line})" if line else ""
                outcome.error = f"importing the submission failed{where}: {kind}: {message}"
            case TestStarted(nodeid=nodeid):
                self.current, self.started = nodeid, time.monotonic()
            case TestEnded(nodeid=nodeid) if nodeid in self.pending:
                _apply(self.pending.pop(nodeid), event, outcome)
                self.current = None
            case TestEnded() | SuiteCollected() | WarmWanted() | ReferenceReleased():
                pass  # settled already; known already; the supervisor's (warm sandboxes)
            case _:
                assert_never(event)


def _apply(record: TestRecord, event: TestEnded, outcome: SuiteOutcome) -> None:
    """Copy a child's end-of-test event onto the scored record."""
    record.status = TestStatus(event.status)
    record.message = event.message
    record.detail = event.detail
    record.duration = event.duration
    record.slowest_call = event.slowest_call
    if event.output:
        outcome.output += event.output


def settle(record: TestRecord, status: TestStatus, message: str) -> None:
    """Settle a test the child could not report on itself."""
    record.status = status
    record.message = message
