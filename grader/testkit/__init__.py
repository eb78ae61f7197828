"""The test kit hidden tests use to drive a submission: fake time, scripts, gates, probes."""

from grader.bridge.batches import ThreadGroup

from .kit import Kit
from .local import (
    ComparisonCounter,
    CountingKey,
    FakeClock,
    FakeSleep,
    Gate,
    Script,
)

__all__ = [
    "ComparisonCounter",
    "CountingKey",
    "FakeClock",
    "FakeSleep",
    "Gate",
    "Kit",
    "Script",
    "ThreadGroup",
]
