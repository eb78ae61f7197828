"""The pytest plugin that serves hidden tests their fixtures and records each test's outcome.

Outcomes are collected through hooks and handed to a sink as typed events, never parsed from
terminal output, so nothing a submission prints can change what is recorded.
"""

from __future__ import annotations

import gc
import inspect
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from grader.caps import DETAIL_CAP, MESSAGE_LIMIT, TEST_OUTPUT_CAP
from grader.failure_notes import Compared, describe_failure
from grader.harness.events import CollectedTest, Sink, SuiteCollected, TestEnded, TestStarted
from grader.testkit import Kit


class TestSession(Protocol):
    """Per-test hooks of a mode that needs them (isolated mode sets call deadlines)."""

    def begin_test(self, nodeid: str | None = None) -> None:
        """A test is about to start (``None``: the one in progress, again)."""

    def end_test(self) -> float:
        """The test has finished: its slowest single call into a sandbox, in seconds (0 when
        none crossed one)."""


def first_paragraph(text: str | None) -> str:
    """A test's hint: its docstring's first paragraph (the lines up to the first blank line),
    joined with single spaces; an empty string without a docstring."""
    paragraph: list[str] = []
    for line in inspect.cleandoc(text or "").splitlines():
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    return " ".join(paragraph)


def classify_failure(excinfo: pytest.ExceptionInfo[BaseException]) -> tuple[str, str]:
    """Split a failure into a kind and a message that is safe to show a candidate.

    Assertion failures hide their values (they would reveal expected results); an exception
    the submission raised is reported by type and its own message.
    """
    exc = excinfo.value
    status = getattr(exc, "report_status", None)
    if isinstance(status, str):  # the bridge says how the call into the submission failed
        return status, str(getattr(exc, "report_message", exc))
    if isinstance(exc, AssertionError | pytest.fail.Exception):
        return "assertion", "assertion failed"
    text = str(exc).strip().replace("\n", " ")
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT] + "..."
    name = getattr(type(exc), "__name__", "Exception")
    return "exception", f"{name}: {text}" if text else name


class HarnessPlugin:
    """Provides ``subject`` and ``kit`` fixtures and streams per-test records to a sink."""

    def __init__(
        self,
        subject: Callable[[], Any],
        kit: Callable[[], Any],
        sink: Sink,
        session: TestSession | None = None,
        ready: Callable[[], bool] | None = None,
        reference: Callable[[], Any] | None = None,
        prepare_reference: Callable[[], None] | None = None,
    ) -> None:
        self._session = session
        self._make_reference = reference
        self._prepare_reference = prepare_reference
        self._ready = ready
        self._make_subject = subject
        self._make_kit = kit
        self._sink = sink
        self._records: dict[str, dict[str, str]] = {}
        self._started: dict[str, float] = {}
        self._subject: Any = None
        self._compared: Compared | None = None

    @pytest.fixture
    def subject(self) -> Any:
        """The submission's module (a proxy of it in isolated mode)."""
        if self._subject is None:
            self._subject = self._make_subject()
        return self._subject

    @pytest.fixture
    def reference(self) -> Any:
        """The exercise's reference solution, run the way the submission is (for comparing
        costs measured in the same run); a test that asks for it is an error without one."""
        if self._make_reference is None:
            raise RuntimeError("this run has no reference solution")
        return self._make_reference()

    @pytest.fixture
    def kit(self) -> Iterator[Kit]:
        """The test kit: fake clocks, scripts, gates and batch helpers."""
        yield self._make_kit()

    def pytest_configure(self, config: pytest.Config) -> None:
        """Declare the marker hidden tests use for their scoring category."""
        config.addinivalue_line("markers", "category(name): the scoring category of a test")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Announce every collected test with its category and hint, before any runs."""
        tests = []
        for item in items:
            marker = item.get_closest_marker("category")
            category = str(marker.args[0]) if marker and marker.args else ""
            doc = getattr(getattr(item, "function", None), "__doc__", None)
            tests.append(
                CollectedTest(
                    nodeid=item.nodeid,
                    name=item.name,
                    category=category,
                    hint=first_paragraph(doc),
                    uses_reference="reference" in getattr(item, "fixturenames", ()),
                )
            )
        self._sink(SuiteCollected(tuple(tests)))
        if self._prepare_reference is not None and any(
            "reference" in getattr(item, "fixturenames", ()) for item in items
        ):
            self._prepare_reference()  # boots while the submission's start is awaited
        if self._ready is not None and not self._ready():
            items.clear()  # the submission is not there to test: run nothing

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Everything pytest and the suite need is loaded: keep it out of the garbage
        collector's full collections from now on (each walked all of it, 10-20 ms apiece)."""
        gc.freeze()

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        """Mark a test as started, so a parent that must kill us knows which one hung."""
        self._started[nodeid] = time.monotonic()
        self._records[nodeid] = {"status": "passed", "message": "", "detail": ""}
        self._compared = None
        self._sink(TestStarted(nodeid))
        if self._session is not None:
            self._session.begin_test(nodeid)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Iterator[None]:
        """Classify the failure of each phase while the exception is still at hand."""
        report: pytest.TestReport = yield  # type: ignore[assignment]
        record = self._records.get(item.nodeid)
        if record is not None and report.failed and call.excinfo is not None:
            if record["status"] == "passed":
                kind, message = classify_failure(call.excinfo)
                if call.when == "call":
                    message = describe_failure(
                        call.excinfo, Path(item.path), kind, message, self._compared
                    )
                status = (
                    kind
                    if kind in ("timeout", "error", "failed")
                    else ("failed" if call.when == "call" else "error")
                )
                record.update(
                    status=status, message=message, detail=str(report.longreprtext)[-DETAIL_CAP:]
                )
        elif record is not None and report.skipped and call.when != "teardown":
            record.update(status="skipped", message="skipped")
        return report  # type: ignore[return-value]

    def pytest_assertrepr_compare(self, op: str, left: object, right: object) -> None:
        """Keep the operands of the comparison a failing ``assert`` explains, so the failure
        can say which value the submission produced (pytest's own explanation is kept)."""
        self._compared = Compared(op, left, right)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep what the submission printed during the test, apart from our records."""
        record = self._records.get(report.nodeid)
        if record is not None and report.when == "call":
            record["output"] = (report.capstdout + report.capstderr)[-TEST_OUTPUT_CAP:]

    def pytest_runtest_logfinish(self, nodeid: str, location: object) -> None:
        """Emit the finished test's record."""
        slowest = self._session.end_test() if self._session is not None else 0.0
        record = self._records.pop(nodeid, {"status": "error", "message": "no report"})
        duration = time.monotonic() - self._started.pop(nodeid, time.monotonic())
        self._sink(
            TestEnded(
                nodeid=nodeid,
                status=record["status"],
                message=record.get("message", ""),
                detail=record.get("detail", ""),
                duration=round(duration, 6),
                output=record.get("output", ""),
                slowest_call=round(slowest, 6),
            )
        )
