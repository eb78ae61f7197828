"""Service metrics, kept and exposed by ``prometheus_client`` in one registry per service.

Handlers and workers count through :class:`Metrics`; ``/metrics`` calls :meth:`Metrics.render`.
A part of the service that owns a number worth watching (a sandbox pool's idle containers,
say) registers a gauge read at each scrape::

    services.metrics.register_gauge(
        "grader_pool_idle_containers", "Warm containers waiting for a run.", pool.idle_count
    )
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

log = logging.getLogger("api")

#: Upper bounds (seconds) of the grading-duration histogram buckets.
DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)

#: Media type of :meth:`Metrics.render`'s text (the Prometheus text format).
CONTENT_TYPE = CONTENT_TYPE_LATEST


def _guarded(name: str, read: Callable[[], float]) -> Callable[[], float]:
    """``read``, but a failure is logged and reads as NaN instead of failing the scrape."""

    def value() -> float:
        try:
            return float(read())
        except Exception:
            log.exception("metric %s could not be read", name)
            return math.nan

    return value


class Metrics:
    """The service's counters, histogram and gauges, in a registry of their own.

    A registry per instance (not the library's global one) lets several services, and tests,
    live in one process without their series colliding.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)  # process_* memory, CPU and file descriptors
        reg = self.registry
        self._queue_depth = Gauge(
            "grader_queue_depth", "Submissions waiting for a grading worker.", registry=reg
        )
        self._running = Gauge("grader_gradings_running", "Gradings in progress.", registry=reg)
        self._workers = Gauge("grader_workers", "Grading workers alive.", registry=reg)
        self._accepted = Counter(
            "grader_submissions_accepted_total", "Submissions accepted for grading.", registry=reg
        )
        self._rejected = Counter(
            "grader_submissions_rejected_total",
            "Submissions refused by a limit, by reason.",
            ["reason"],
            registry=reg,
        )
        self._gradings = Counter(
            "grader_gradings_total",
            "Gradings finished, by submission status (completed or error).",
            ["status"],
            registry=reg,
        )
        for status in ("completed", "error"):
            self._gradings.labels(status)  # both series exist from the start, at 0
        self._results = Counter(
            "grader_grading_results_total",
            "Completed gradings, by report status.",
            ["result"],
            registry=reg,
        )
        self._duration = Histogram(
            "grader_grading_duration_seconds",
            "Seconds from a worker taking a submission to its result being stored.",
            buckets=DURATION_BUCKETS,
            registry=reg,
        )

    def accepted(self) -> None:
        """A submission was accepted."""
        self._accepted.inc()

    def rejected(self, reason: str) -> None:
        """A submission was refused for ``reason`` (rate_limited, too_many_queued)."""
        self._rejected.labels(reason).inc()

    def graded(self, status: str, result: str | None, seconds: float) -> None:
        """A grading ended in submission ``status``, report ``result``, after ``seconds``."""
        self._gradings.labels(status).inc()
        if result:
            self._results.labels(result).inc()
        self._duration.observe(seconds)

    def register_gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """Expose gauge ``name`` whose value is ``read()`` at each scrape.

        ``read`` runs on the request thread of ``/metrics``: it must be quick and thread-safe.
        If it raises, the error is logged and the gauge reads NaN for that scrape. Raises
        ``ValueError`` if ``name`` is taken or is not a valid metric name.
        """
        Gauge(name, documentation, registry=self.registry).set_function(_guarded(name, read))

    def render(self, queue_depth: int, running: int, workers: int) -> str:
        """Everything, in the Prometheus text format, with the service's gauges as given."""
        self._queue_depth.set(queue_depth)
        self._running.set(running)
        self._workers.set(workers)
        return generate_latest(self.registry).decode("utf-8")
