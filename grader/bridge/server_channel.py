"""The subject server's end of the channel: whole frames over two raw file descriptors.
Stdlib-only: it runs inside the sandbox.

Each read polls briefly before it blocks (:mod:`sandbox.polling`, shipped in with it); the
harness does the same on its end (``sandbox.docker_socket``). Polling burns CPU time that the
sandbox's counter sees, so the harness can ask for a quiet request (``"quiet": true``, for
requests whose CPU time it measures, ``kit.cost``): from the moment such a request is read until
the next request comes, this end never polls.
"""

from __future__ import annotations

import os
import select

from grader.bridge import wire
from sandbox.polling import SPIN_SECONDS, Poller


class Channel:
    """Whole frames over two raw file descriptors, polled for briefly before each blocking
    read."""

    def __init__(self, fd_in: int, fd_out: int, spin: float = SPIN_SECONDS) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out
        self._spin = spin
        self.poller = Poller(spin)
        # Reads never block (the poller needs that); on a socket channel both fds share one
        # open file, so writes handle EAGAIN too.
        os.set_blocking(fd_in, False)

    def quiet(self, on: bool) -> None:
        """Stop polling (a quiet request was read) or resume it (any other request)."""
        self.poller.seconds = 0.0 if on else self._spin

    def _read_some(self, n: int) -> bytes:
        """Up to ``n`` bytes: polled for, then waited for in ``select``."""
        data = self.poller.poll(lambda: os.read(self.fd_in, n))
        if data is not None:
            return data
        while True:
            try:
                return os.read(self.fd_in, n)
            except BlockingIOError:
                select.select([self.fd_in], [], [])

    def _read_exact(self, n: int) -> bytes:
        chunks, remaining = [], n
        while remaining:
            chunk = self._read_some(remaining)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def receive(self) -> dict[str, object]:
        """The next message from the harness."""
        length = wire.frame_length(self._read_exact(wire.HEADER_SIZE))
        return wire.parse_from_harness(self._read_exact(length))

    def send(self, message: dict[str, object]) -> None:
        """Send one message to the harness."""
        view = memoryview(wire.frame(message))
        while view:
            try:
                view = view[os.write(self.fd_out, view) :]
            except BlockingIOError:
                select.select([], [self.fd_out], [])
