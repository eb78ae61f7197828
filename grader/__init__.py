"""Grade coding exercises against hidden test suites."""

__version__ = "0.1.0"
