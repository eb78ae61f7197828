"""A grading node's consumer after an acknowledgement lost to a Redis outage (issue 12).

Kombu's Redis transport keeps a delivered message in Redis's ``unacked`` hash and counts it
against the prefetch limit until it is acknowledged. An acknowledgement made while Redis is
away fails; the fleet's transport must free the slot all the same (else the node never takes
another message) and leave the message in the hash (Redis delivers it again later, and that
copy finds its submission settled).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
import redis
from kombu import Exchange, Queue

from api.fleet import make_celery
from api.settings import Settings
from tests.fleet.services import Backends

pytestmark = pytest.mark.fleet

log = logging.getLogger("tests.fleet.acks")


def test_an_ack_failing_while_redis_is_down_frees_the_slot_and_keeps_the_message(
    fleet_backends: Backends,
) -> None:
    name = f"acks_{uuid.uuid4().hex[:10]}"
    app = make_celery(Settings(broker_url=fleet_backends.redis_url, queue_name=name))
    client = redis.Redis.from_url(fleet_backends.redis_url)
    try:
        tag = _ack_while_redis_is_down(app, name, fleet_backends)
        assert client.hexists(f"{name}:unacked", tag), "the unacknowledged message was lost"
    finally:
        client.delete(*client.keys(f"{name}:*") or [f"{name}:none"])
        client.close()


def _ack_while_redis_is_down(app: Any, name: str, backends: Backends) -> str:
    """Take one of two messages (prefetch 1), acknowledge it while Redis is stopped; check
    that the consumer may take the next one; the message's delivery tag."""
    queue = Queue(name, Exchange(name), routing_key=name)
    received: list[Any] = []
    with app.connection_for_read() as connection:
        channel = connection.channel()
        with connection.Producer(channel) as producer:
            for body in ("first", "second"):
                producer.publish(body, exchange=queue.exchange, routing_key=name, declare=[queue])
        consumer = connection.Consumer(
            queue, channel=channel, callbacks=[lambda _body, message: received.append(message)]
        )
        consumer.qos(prefetch_count=1)
        with consumer:
            connection.drain_events(timeout=5)
            assert len(received) == 1 and not channel.qos.can_consume()
            backends.stop_redis()
            try:
                received[0].ack_log_error(log, connection.connection_errors)
            finally:
                backends.start_redis()
            assert not received[0].acknowledged  # Redis could not be told
            assert channel.qos.can_consume(), "the failed ack kept the prefetch slot"
    return str(received[0].delivery_tag)
