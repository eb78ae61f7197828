"""Progress events across processes: grading workers publish "submission X changed" on a Redis
channel; every API node forwards what it hears to its own :class:`~api.notify.Notifier`, which
wakes the long-polls and event streams waiting on that submission.

Events only make waiting clients look sooner: a waiting request also rereads the row every
second (``api.views.RECHECK``), so a lost event (Redis restarting) delays, never loses, news.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from api.notify import Notifier

log = logging.getLogger("api.events")


def channel(prefix: str) -> str:
    """The Redis channel of a deployment's change events."""
    return f"{prefix}:changes"


class RedisEvents:
    """Publishes changes (workers) and forwards them to a local notifier (API nodes)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.channel = channel(prefix)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self, submission_id: str) -> None:
        """Tell every API node that ``submission_id`` changed."""
        self.client.publish(self.channel, submission_id)

    def forward(self, notifier: Notifier) -> None:
        """Forward events to ``notifier`` from a thread, reconnecting after failures."""
        self._thread = threading.Thread(
            target=self._listen, args=(notifier,), name="redis-events", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop forwarding."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(3)

    def _listen(self, notifier: Notifier) -> None:
        """Subscribe, forward, and subscribe again after a lost connection."""
        failing = False
        while not self._stop.is_set():
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                if failing:
                    log.warning("listening to progress events again")
                failing = False
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        data = message["data"]
                        notifier.notify(data.decode() if isinstance(data, bytes) else str(data))
                pubsub.close()
            except Exception as exc:  # Redis away: clients fall back on rereading the row
                if not failing:
                    log.warning("progress events unavailable: %s", type(exc).__name__)
                failing = True
                self._stop.wait(1.0)
