"""Service metrics in the Prometheus text exposition format (no client library needed)."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable

#: Upper bounds (seconds) of the grading-duration histogram buckets.
DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _labels(**labels: str) -> str:
    """``{a="x",b="y"}`` with values escaped as the format requires."""
    escaped = (
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels.items()
    )
    return "{" + ",".join(escaped) + "}"


def _family(name: str, kind: str, help_text: str, samples: Iterable[str]) -> list[str]:
    """One metric family: HELP and TYPE lines, then its samples."""
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]


class Metrics:
    """Counters and a histogram updated by handlers and workers; gauges are read at render."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted = 0
        self._rejected: Counter[str] = Counter()
        self._gradings: Counter[str] = Counter()
        self._results: Counter[str] = Counter()
        self._buckets = [0] * len(DURATION_BUCKETS)
        self._duration_sum = 0.0
        self._duration_count = 0

    def accepted(self) -> None:
        """A submission was accepted."""
        with self._lock:
            self._accepted += 1

    def rejected(self, reason: str) -> None:
        """A submission was refused for ``reason`` (rate_limited, too_many_queued)."""
        with self._lock:
            self._rejected[reason] += 1

    def graded(self, status: str, result: str | None, seconds: float) -> None:
        """A grading ended in submission ``status``, report ``result``, after ``seconds``."""
        with self._lock:
            self._gradings[status] += 1
            if result:
                self._results[result] += 1
            index = bisect_left(DURATION_BUCKETS, seconds)
            if index < len(self._buckets):
                self._buckets[index] += 1
            self._duration_sum += seconds
            self._duration_count += 1

    def render(self, queue_depth: int, running: int, workers: int) -> str:
        """Everything, in the text exposition format."""
        with self._lock:
            lines = _family(
                "grader_queue_depth",
                "gauge",
                "Submissions waiting for a grading worker.",
                [f"grader_queue_depth {queue_depth}"],
            )
            lines += _family(
                "grader_gradings_running",
                "gauge",
                "Gradings in progress.",
                [f"grader_gradings_running {running}"],
            )
            lines += _family(
                "grader_workers", "gauge", "Grading workers alive.", [f"grader_workers {workers}"]
            )
            lines += _family(
                "grader_submissions_accepted_total",
                "counter",
                "Submissions accepted for grading.",
                [f"grader_submissions_accepted_total {self._accepted}"],
            )
            lines += _family(
                "grader_submissions_rejected_total",
                "counter",
                "Submissions refused by a limit, by reason.",
                [
                    f"grader_submissions_rejected_total{_labels(reason=r)} {n}"
                    for r, n in sorted(self._rejected.items())
                ],
            )
            lines += _family(
                "grader_gradings_total",
                "counter",
                "Gradings finished, by submission status (completed or error).",
                [
                    f"grader_gradings_total{_labels(status=s)} {self._gradings[s]}"
                    for s in ("completed", "error")
                ],
            )
            lines += _family(
                "grader_grading_results_total",
                "counter",
                "Completed gradings, by report status.",
                [
                    f"grader_grading_results_total{_labels(result=r)} {n}"
                    for r, n in sorted(self._results.items())
                ],
            )
            lines += self._histogram()
        return "\n".join(lines) + "\n"

    def _histogram(self) -> list[str]:
        """The grading-duration histogram (cumulative buckets, sum and count)."""
        name = "grader_grading_duration_seconds"
        samples, total = [], 0
        for bound, count in zip(DURATION_BUCKETS, self._buckets, strict=True):
            total += count
            samples.append(f"{name}_bucket{_labels(le=f'{bound:g}')} {total}")
        samples.append(f"{name}_bucket{_labels(le='+Inf')} {self._duration_count}")
        samples.append(f"{name}_sum {self._duration_sum:.6f}")
        samples.append(f"{name}_count {self._duration_count}")
        return _family(
            name,
            "histogram",
            "Seconds from a worker taking a submission to its result being stored.",
            samples,
        )
