"""The grader's own faults. What a submission does wrong is never one of these: it is data."""


class GraderError(Exception):
    """Root of every fault of the grader itself (configuration, exercise data, environment)."""


class ExerciseNotFound(GraderError):
    """No exercise has the requested slug."""

    def __init__(self, slug: str, known: list[str]) -> None:
        hint = f"; known: {', '.join(known)}" if known else ""
        super().__init__(f"unknown exercise {slug!r}{hint}")
        self.slug = slug


class ExerciseInvalid(GraderError):
    """An exercise folder is malformed; the message says which file and what is wrong."""


class SandboxUnavailable(GraderError):
    """The requested sandbox cannot run here; the message says how to fix it."""


class HarnessFault(GraderError):
    """The harness itself failed in a way no submission should be able to cause."""
