"""How a call across the bridge can fail for reasons other than the submission's exceptions.

They derive from ``BaseException`` so that a hidden test's ``pytest.raises(Exception)`` can
never swallow them and pass by accident; each carries the status its test must get.
"""

from __future__ import annotations


class BridgeFailure(BaseException):
    """A call into the submission could not complete; the test fails with ``report_status``."""

    report_status = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.report_message = message


class SubjectTimeout(BridgeFailure):
    """A call into the submission outlived the test's time limit."""

    report_status = "timeout"


class SubjectDied(BridgeFailure):
    """The submission's process ended (exit, signal, memory) while a test needed it."""

    report_status = "error"


class ProtocolViolation(BridgeFailure):
    """The submission's side sent something the protocol does not allow."""

    report_status = "failed"


class ImportFailed(Exception):
    """Importing the submission in the sandbox failed; carries the failure as data."""

    def __init__(self, info: dict[str, object]) -> None:
        super().__init__(str(info.get("message", "")))
        self.info = info
