"""The test kit hidden tests use to drive a submission: fake time, scripts, gates, probes."""

from grader.bridge.batches import ThreadGroup

from .interleave import Interleaving
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
    "Interleaving",
    "Kit",
    "Script",
    "ThreadGroup",
]
