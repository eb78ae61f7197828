"""What a harness child tells its parent, one JSON line per event in the results file.

Producers (the pytest plugin, the child's direct mode, isolated mode) build the events below and
write them with :func:`encode`; the supervisor reads them back with :func:`decode`, which accepts
only these events with well-typed fields. Anything else raises :class:`MalformedEvent`, a
fault of the harness: no submission can reach the results file in isolated mode.

Standard library only: the child imports this before pytest, and must start fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, fields
from typing import TYPE_CHECKING, ClassVar, TypeAlias, TypeVar, get_args

from grader.errors import HarnessFault

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

#: The statuses a test can end with (the values of ``grader.report.TestStatus``).
TEST_STATUSES = frozenset({"passed", "failed", "error", "timeout", "skipped"})


class MalformedEvent(HarnessFault):
    """A line of the results file that is not a harness event."""


@dataclass(frozen=True)
class CollectedTest:
    """One test of the hidden suite, as collection found it."""

    __test__ = False  # not a pytest test class, despite its name

    nodeid: str
    name: str
    category: str
    hint: str
    #: Whether the test asks for the ``reference`` fixture (isolated mode then boots the
    #: reference's sandbox as the run starts).
    uses_reference: bool = False


@dataclass(frozen=True)
class SuiteCollected:
    """pytest collected the hidden suite: every test, before any of them runs."""

    tag: ClassVar[str] = "collected"
    tests: tuple[CollectedTest, ...]


@dataclass(frozen=True)
class TestStarted:
    """A test is starting: if the child dies or hangs now, this test is the one to blame."""

    __test__ = False  # not a pytest test class, despite its name
    tag: ClassVar[str] = "start"
    nodeid: str


@dataclass(frozen=True)
class TestEnded:
    """A test ended: its status, a message safe to show, and what the submission printed."""

    __test__ = False  # not a pytest test class, despite its name
    tag: ClassVar[str] = "end"
    nodeid: str
    status: str
    message: str = ""
    detail: str = ""
    duration: float = 0.0
    output: str = ""
    #: The test's longest single call into a sandbox (isolated mode), in seconds.
    slowest_call: float = 0.0


@dataclass(frozen=True)
class SandboxSelected:
    """Isolated mode chose this sandbox backend for the submission."""

    tag: ClassVar[str] = "sandbox"
    name: str


@dataclass(frozen=True)
class WarmWanted:
    """The child is about to start a sandbox with these limits (JSON): the parent answers on
    the child's stdin with the id of a warm container from its pool, or an empty line."""

    tag: ClassVar[str] = "warm_wanted"
    limits: str


@dataclass(frozen=True)
class ReferenceReleased:
    """The child is done with the resident reference its parent lent it: ``clean`` if it
    answered its last reset as a fresh one does, so that it may serve the next grading."""

    tag: ClassVar[str] = "reference_released"
    clean: bool


@dataclass(frozen=True)
class SandboxFailed:
    """The sandbox could not run the submission at all: a fault of the grader's setup."""

    tag: ClassVar[str] = "sandbox_failed"
    message: str


@dataclass(frozen=True)
class SubmissionImported:
    """The submission is imported and ready to test (in that sandbox, if isolated)."""

    tag: ClassVar[str] = "imported"
    sandbox: str | None = None


@dataclass(frozen=True)
class SubmissionImportRaised:
    """The submission's own import raised: the exception's type, message and line."""

    tag: ClassVar[str] = "import_raised"
    type: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class SubmissionStartFailed:
    """The bridge could not start the submission (it hung, died or broke the protocol)."""

    tag: ClassVar[str] = "start_failed"
    status: str
    message: str


@dataclass(frozen=True)
class SubjectOutput:
    """What the sandboxed submission printed over the whole run."""

    tag: ClassVar[str] = "output"
    text: str


HarnessEvent: TypeAlias = (
    SuiteCollected
    | TestStarted
    | TestEnded
    | SandboxSelected
    | WarmWanted
    | ReferenceReleased
    | SandboxFailed
    | SubmissionImported
    | SubmissionImportRaised
    | SubmissionStartFailed
    | SubjectOutput
)

_T = TypeVar("_T", bound="DataclassInstance")

#: Where a child sends its events.
Sink = Callable[[HarnessEvent], None]

_EVENTS: dict[str, type[HarnessEvent]] = {cls.tag: cls for cls in get_args(HarnessEvent)}

#: Checks for each field annotation the events use (annotations are strings here).
_CHECKS: dict[str, Callable[[object], bool]] = {
    "str": lambda value: isinstance(value, str),
    "str | None": lambda value: value is None or isinstance(value, str),
    "int | None": lambda value: value is None or type(value) is int,
    "float": lambda value: type(value) in (int, float),
    "bool": lambda value: type(value) is bool,
}


def encode(event: HarnessEvent) -> str:
    """One event as one line of JSON (without its newline)."""
    return json.dumps({"event": event.tag, **asdict(event)}, default=repr)


def decode(line: str) -> HarnessEvent:
    """The event one line of JSON holds; :class:`MalformedEvent` says why a line is none."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise _malformed(line, f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _malformed(line, "not a JSON object")
    fields_ = dict(data)
    tag = fields_.pop("event", None)
    cls = _EVENTS.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise _malformed(line, f"unknown event {tag!r}")
    if cls is SuiteCollected:
        tests = fields_.pop("tests", None)
        if fields_ or not isinstance(tests, list):
            raise _malformed(line, "a collected event has exactly a list of tests")
        return SuiteCollected(tuple(_build(CollectedTest, test, line) for test in tests))
    event = _build(cls, fields_, line)
    if isinstance(event, TestEnded) and event.status not in TEST_STATUSES:
        raise _malformed(line, f"unknown test status {event.status!r}")
    return event


def _build(cls: type[_T], data: object, line: str) -> _T:
    """An instance of the dataclass ``cls`` from ``data``, every field checked."""
    if not isinstance(data, dict):
        raise _malformed(line, f"{cls.__name__} fields are not a JSON object")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise _malformed(line, f"unknown fields {unknown} for {cls.__name__}")
    values: dict[str, object] = {}
    for name, spec in known.items():
        if name not in data:
            if spec.default is MISSING:  # a required field
                raise _malformed(line, f"{cls.__name__} lacks field {name!r}")
            continue
        value = data[name]
        if not _CHECKS[str(spec.type)](value):
            raise _malformed(line, f"{cls.__name__}.{name} is not {spec.type}: {value!r}")
        values[name] = float(value) if spec.type == "float" else value
    return cls(**values)


def _malformed(line: str, reason: str) -> MalformedEvent:
    """The fault for one bad line, quoting (the start of) it."""
    shown = line if len(line) <= 200 else line[:200] + "..."
    return MalformedEvent(f"the harness child wrote a malformed event: {reason}: {shown!r}")
