"""Fleet mode: submissions travel through Celery (Redis by default, RabbitMQ by URL) to
``grader worker`` nodes; rate limits and progress events are shared through Redis.

The database row stays the record; a message only says "grade this id". Messages are
acknowledged after the grading (``acks_late``), handed back if the worker process is lost
(``task_reject_on_worker_lost``), fetched one at a time (prefetch 1), and redelivered by Redis
after ``visibility_timeout`` if never acknowledged. Redelivery and duplicates are harmless:
only the holder of a submission's lease may grade it or store its result (:mod:`api.leases`).
Celery retries a message only for an infrastructure fault (the database could not be reached
to lease it); a failing or timed-out submission is a result, never a retry. A Redis broker is
used through :mod:`api.redisbroker`, so that an acknowledgement lost while Redis restarts
cannot stop a grading node from taking messages.
"""

from __future__ import annotations

import logging
import os
import signal
import ssl
import subprocess
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

from api.events import RedisEvents
from api.notify import Notifier
from api.ratelimit import RedisRateLimiter
from api.settings import Settings, SettingsInvalid

log = logging.getLogger("api.fleet")

#: The one task: grade the submission with this id.
TASK_NAME = "grader.grade"
#: Retries of a message whose submission could not be leased (database away), backing off
#: up to 30 s apart: about five minutes; after that the sweeper hands the submission over.
MAX_RETRIES = 12


def make_celery(settings: Settings) -> Any:
    """The Celery app of a deployment (``settings.queue_name`` names its queue and keys)."""
    from celery import Celery

    app = Celery("grader", broker=settings.broker_url, set_as_current=False)
    transport: dict[str, Any] = {"visibility_timeout": settings.visibility_timeout}
    if (settings.broker_url or "").startswith(("redis://", "rediss://")):
        transport["global_keyprefix"] = f"{settings.queue_name}:"
        _use_slot_freeing_redis(app, settings.broker_url or "")
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=settings.queue_name,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        broker_pool_limit=10,
        worker_hijack_root_logger=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_enable_remote_control=False,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.3,
            "interval_max": 0.5,
        },
    )

    @app.task(name=TASK_NAME, bind=True, max_retries=MAX_RETRIES)  # type: ignore[untyped-decorator]
    def grade_submission(task: Any, submission_id: str) -> None:
        """Lease and grade one submission on this worker node."""
        from sqlalchemy.exc import InterfaceError, OperationalError
        from sqlalchemy.exc import TimeoutError as PoolTimeout

        from api.gradingnode import current_node

        try:
            current_node().job(submission_id)
        except (OperationalError, InterfaceError, PoolTimeout) as exc:
            delay = min(30, 2**task.request.retries)
            log.warning("%s: database unavailable (%s); retry in %d s", submission_id, exc, delay)
            raise task.retry(exc=exc, countdown=delay) from None

    return app


def _use_slot_freeing_redis(app: Any, url: str) -> None:
    """Consume Redis through :class:`api.redisbroker.SlotFreeingTransport`: an ack that fails
    while Redis restarts must not leave a grading node unable to take messages."""
    app.conf.broker_transport = "api.redisbroker:SlotFreeingTransport"
    if url.startswith("rediss://") and "ssl_" not in urlsplit(url).query:
        # Kombu recognises a bare rediss:// URL by its scheme only (and would then not check
        # the certificate); here the broker's certificate is checked unless the URL says
        # otherwise (?ssl_cert_reqs=...).
        app.conf.broker_use_ssl = {"ssl_cert_reqs": ssl.CERT_REQUIRED}


class CeleryDispatcher:
    """Publishes submission ids as Celery tasks (one publisher at a time per process)."""

    def __init__(self, app: Any, queue: str) -> None:
        self.app = app
        self.queue = queue
        self._lock = threading.Lock()

    def publish(self, submission_id: str) -> None:
        """Send the grading task; raises if the broker cannot take it (after brief retries)."""
        with self._lock:
            self.app.send_task(TASK_NAME, args=[submission_id], queue=self.queue, retry=True)

    def depth(self) -> int | None:
        """Messages waiting in the broker's queue (``None`` if it cannot be asked now)."""
        try:
            with self.app.connection_for_read() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
                declared = conn.default_channel.queue_declare(self.queue, passive=True)
                return int(declared.message_count)
        except Exception:
            return None

    def ping(self) -> None:
        """Raise unless the broker answers."""
        with self.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)


def redis_client(settings: Settings) -> Any:
    """A Redis client for limits and events; ``SettingsInvalid`` if there is no Redis."""
    import redis

    url = settings.shared_redis_url
    if url is None:
        raise SettingsInvalid(
            "invalid setting: GRADER_REDIS_URL: fleet mode shares rate limits and progress "
            "events through Redis; set it (the broker is not Redis)"
        )
    return redis.Redis.from_url(
        url, socket_timeout=3, socket_connect_timeout=3, health_check_interval=15
    )


class FleetParts:
    """What an API node of a fleet has instead of in-process workers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = make_celery(settings)
        self.dispatcher = CeleryDispatcher(self.app, settings.queue_name)
        self.redis = redis_client(settings)
        self.limiter = RedisRateLimiter(
            self.redis, settings.rate_per_minute, settings.rate_burst, settings.queue_name
        )
        self.events = RedisEvents(self.redis, settings.queue_name)
        self._child: subprocess.Popen[bytes] | None = None

    def start(self, notifier: Notifier) -> None:
        """Forward progress events; start a local worker node if ``workers`` asks for one."""
        self.events.forward(notifier)
        if self.settings.workers > 0:
            self._child = subprocess.Popen(
                [
                    *(sys.executable, "-c", "from grader.cli import main; main()", "worker"),
                    *("--concurrency", str(self.settings.workers)),
                ],
                env=_worker_env(self.settings),
            )
            log.info("started a local worker node (pid %d)", self._child.pid)

    def stop(self, grace: float) -> None:
        """Stop forwarding; stop the local worker node (it gets ``grace`` to finish)."""
        self.events.stop()
        child = self._child
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(grace + 10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(5)

    def local_workers(self) -> tuple[int, int]:
        """(alive, expected) grading threads of the local worker node."""
        expected = self.settings.workers
        alive = self._child is not None and self._child.poll() is None
        return (expected if alive else 0), expected

    def ping(self) -> dict[str, str]:
        """The broker's and Redis's state, for ``/readyz`` ("ok" or why not)."""
        checks = {}
        for name, probe in (("broker", self.dispatcher.ping), ("redis", self.redis.ping)):
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"failed: {type(exc).__name__}"
        return checks


def _worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a local worker node: this node's settings, as variables."""
    env = dict(os.environ)
    values = settings.model_dump(exclude_none=True, exclude={"host", "port"})
    for name, value in values.items():
        text = value.value if hasattr(value, "value") else value
        env[f"GRADER_{name.upper()}"] = str(text).lower() if isinstance(text, bool) else str(text)
    return env


def build_fleet_parts(settings: Settings) -> FleetParts:
    """The broker client, shared limits and events of an API node."""
    return FleetParts(settings)
