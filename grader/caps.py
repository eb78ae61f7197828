"""How much of what a submission says or prints the grader keeps: every cap, defined once."""

from __future__ import annotations

from grader.bridge.protocol import TEXT_LIMIT

#: Characters of a submission's exception message (or repr) that reach a report.
MESSAGE_LIMIT = TEXT_LIMIT
#: Characters of the submission's own output a report keeps for the whole run.
OUTPUT_CAP = 16_000
#: Characters of the submission's output kept per test.
TEST_OUTPUT_CAP = 4_000
#: Characters of a failed assertion's detail kept for exercise authors (never shown publicly).
DETAIL_CAP = 4_000

__all__ = ["DETAIL_CAP", "MESSAGE_LIMIT", "OUTPUT_CAP", "TEST_OUTPUT_CAP"]
