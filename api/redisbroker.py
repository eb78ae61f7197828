"""Kombu's Redis transport with acknowledgements that cannot wedge a worker's consumer.

Kombu's Redis transport emulates acknowledgements: a delivered message is kept in an
``unacked`` hash in Redis and counted against the channel's prefetch limit until it is
acknowledged. Its ``ack`` first deletes the message from that hash and only then frees the
prefetch slot; when Redis cannot be reached at that moment (it is restarting), the delete
raises, Celery logs "Couldn't ack" and carries on, and the slot is never freed. A grading node
whose every slot was acknowledged during a Redis outage then never asks Redis for another
message: nothing reconnects it, since the consumer saw no error of its own (issue 12).

Here a failed acknowledgement still frees the slot and is then reported as before. The
message stays in Redis's ``unacked`` hash, so Redis delivers it again after
``visibility_timeout``; that copy finds its submission settled and costs nothing
(:mod:`api.leases`).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis


class SlotFreeingQoS(kombu_redis.QoS):
    """Redis ack emulation whose ``ack`` and ``reject`` free the prefetch slot even when Redis
    cannot be told."""

    def ack(self, delivery_tag: Any) -> None:
        """Acknowledge in Redis; the slot is freed whether or not Redis could be reached."""
        try:
            super().ack(delivery_tag)  # type: ignore[no-untyped-call]
        except BaseException:
            self._quick_ack(delivery_tag)
            raise

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        """Reject in Redis; the slot is freed whether or not Redis could be reached."""
        try:
            super().reject(delivery_tag, requeue=requeue)  # type: ignore[no-untyped-call]
        except BaseException:
            self._quick_ack(delivery_tag)
            raise


class SlotFreeingChannel(kombu_redis.Channel):
    """A Redis channel using :class:`SlotFreeingQoS` (unless ack emulation is off)."""

    QoS = SlotFreeingQoS


class SlotFreeingTransport(kombu_redis.Transport):
    """Kombu's Redis transport with :class:`SlotFreeingChannel`; ``broker_transport`` of a
    fleet whose broker is Redis (:func:`api.fleet.make_celery`)."""

    Channel = SlotFreeingChannel
