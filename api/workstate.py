"""The queue's and the workers' state as the views read them (``/metrics``, ``/readyz``, the
admin page): this process's own in embedded mode, the fleet's (from the database) on an API node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from api.dispatch import Dispatcher

if TYPE_CHECKING:
    from api.services import Services


class QueueState(Protocol):
    """How many submissions wait for a grader."""

    def depth(self) -> int:
        """Submissions waiting."""
        ...


class PoolState(Protocol):
    """The grading workers as the views see them."""

    size: int

    def alive(self) -> int:
        """Workers running."""
        ...

    def busy(self) -> int:
        """Gradings in progress."""
        ...


class LocalQueueState:
    """Embedded mode: the in-process queue's depth."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def depth(self) -> int:
        """Ids waiting in the local queue."""
        return self.dispatcher.depth() or 0


class FleetState:
    """A fleet's queue and gradings, counted in the database (the same on every node); the
    workers are this node's local worker node's, if it has one."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.size = services.workers()[1]

    def depth(self) -> int:
        """Submissions waiting, fleet-wide."""
        return self.services.counts()[0]

    def busy(self) -> int:
        """Gradings running, fleet-wide."""
        return self.services.counts()[1]

    def alive(self) -> int:
        """This node's local grading threads."""
        return self.services.workers()[0]
