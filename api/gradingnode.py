"""``grader worker``: a grading node of a fleet, a Celery worker in threads.

Each grading runs the hidden suite in child processes, so the node's threads mostly wait;
``--concurrency`` threads grade at once. Besides Celery's consumer the node runs the lease
keeper (renews what it grades), the sweeper (hands over what any dead node stranded) and,
with ``--metrics-port``, ``/metrics`` and ``/healthz`` for the node.

On SIGTERM Celery stops taking messages and lets running gradings finish; after
``shutdown_grace`` seconds the leases of those still running are given back and their
submissions queued again, and the node exits.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from api.db import make_sessions, open_database
from api.dispatch import hand_over
from api.fleet import CeleryDispatcher, make_celery, redis_client
from api.leases import LeaseKeeper, node_id, release
from api.metrics import CONTENT_TYPE, Metrics
from api.settings import Settings
from api.sweeper import Sweeper
from api.worker import ChangeSink, GradingJob
from grader.catalogue import Catalogue
from grader.runners import make_runner

log = logging.getLogger("api.gradingnode")


class _Quiet:
    """A change sink for a fleet without Redis events (clients reread the row instead)."""

    def notify(self, submission_id: str) -> None:
        """Nothing to tell."""


@dataclass
class WorkerNode:
    """Everything the grading task needs on this node."""

    settings: Settings
    sessions: sessionmaker[Session]
    job: GradingJob
    keeper: LeaseKeeper
    sweeper: Sweeper
    dispatcher: CeleryDispatcher
    metrics: Metrics
    concurrency: int


_NODE: WorkerNode | None = None


def current_node() -> WorkerNode:
    """The node this process runs (set by :func:`run_worker`)."""
    if _NODE is None:
        raise RuntimeError("no grading node in this process: start it with `grader worker`")
    return _NODE


def build_node(settings: Settings, concurrency: int, app: Any) -> WorkerNode:
    """Connect the database, set the sandbox up, build the grading job."""
    engine = open_database(settings.database_url)
    sessions = make_sessions(engine)
    runner, warning = make_runner(
        settings.sandbox, settings.sandbox_image, settings.sandbox_runtime
    )
    if warning:
        log.warning("%s", warning)
    metrics = Metrics()
    sink: ChangeSink = _Quiet()
    if settings.shared_redis_url:
        from api.events import RedisEvents

        sink = RedisEvents(redis_client(settings), settings.queue_name)
    keeper = LeaseKeeper(sessions, node_id(), settings.lease_seconds)
    catalogue = Catalogue(settings.exercises_dir)
    job = GradingJob(sessions, catalogue, runner, metrics, sink, keeper, settings.max_attempts)
    dispatcher = CeleryDispatcher(app, settings.queue_name)
    sweeper = Sweeper(
        sessions,
        dispatcher,
        settings.max_attempts,
        settings.redispatch_seconds,
        settings.sweep_interval,
    )
    return WorkerNode(settings, sessions, job, keeper, sweeper, dispatcher, metrics, concurrency)


def run_worker(settings: Settings, concurrency: int, metrics_port: int | None = None) -> None:
    """Run a grading node until it is stopped (SIGTERM or SIGINT)."""
    global _NODE
    app = make_celery(settings)
    node = build_node(settings, concurrency, app)
    _NODE = node
    _on_shutdown_give_back(node)
    node.keeper.start()
    node.sweeper.start()
    if metrics_port:
        _serve_metrics(node, metrics_port)
    log.info("grading node %s: %d thread(s)", node.keeper.owner, concurrency)
    try:
        app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={concurrency}",
                f"--queues={settings.queue_name}",
                f"--hostname=grader-{os.getpid()}@{socket.gethostname()}",
                f"--loglevel={settings.log_level.upper()}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        node.sweeper.stop()
        node.keeper.stop()


def _on_shutdown_give_back(node: WorkerNode) -> None:
    """When Celery starts shutting down, give gradings ``shutdown_grace`` seconds, then give
    the leases back, queue those submissions again and exit."""
    from celery.signals import worker_shutting_down

    def give_back() -> None:
        held = node.keeper.held()
        if not held:
            return
        log.warning("requeueing %d unfinished grading(s)", len(held))
        released = release(node.sessions, held)
        hand_over(node.sessions, node.dispatcher, released)
        logging.shutdown()
        os._exit(0)  # the grading threads cannot be interrupted; their leases are given back

    def on_shutdown(**_kwargs: object) -> None:
        timer = threading.Timer(node.settings.shutdown_grace, give_back)
        timer.daemon = True
        timer.start()

    worker_shutting_down.connect(on_shutdown, weak=False)


def _serve_metrics(node: WorkerNode, port: int) -> None:
    """``/metrics`` (Prometheus text) and ``/healthz`` of this node, on 127.0.0.1 or the
    ``GRADER_HOST`` address, from a thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            """Serve the two paths."""
            if self.path == "/metrics":
                held = len(node.keeper.held())
                body = node.metrics.render(queue_depth=0, running=held, workers=node.concurrency)
                self._answer(200, CONTENT_TYPE, body.encode())
            elif self.path == "/healthz":
                ok = node.sweeper.healthy()
                self._answer(200 if ok else 503, "text/plain", b"ok\n" if ok else b"stale\n")
            else:
                self._answer(404, "text/plain", b"not found\n")

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            """Send one response."""
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Scrapes are not worth a log line."""

    server = ThreadingHTTPServer((node.settings.host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
