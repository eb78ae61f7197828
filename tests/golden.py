"""Golden files: compare output with a stored copy; UPDATE_GOLDEN=1 rewrites the copies."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from grader.report import PublicReport, Report

GOLDEN = Path(__file__).parent / "golden"
FIXED_TIME = "2026-01-01T00:00:00Z"


def normalise(report: Report | PublicReport) -> dict[str, Any]:
    """A report as JSON data with run-dependent fields (times, paths) fixed."""
    data = json.loads(report.model_dump_json())
    data["started_at"] = FIXED_TIME
    data["duration"] = 0.0
    for test in data["tests"]:
        if "duration" in test:
            test["duration"] = 0.0
        if "detail" in test:
            test["detail"] = "<detail>" if test["detail"] else ""
    return data


def check_golden(name: str, actual: str) -> None:
    """Assert ``actual`` equals the golden file ``name`` (or rewrite it when asked)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert actual == path.read_text(), f"output differs from {path}"
