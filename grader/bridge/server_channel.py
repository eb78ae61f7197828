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

#: The most bytes one read takes off the channel.
READ_SIZE = 1 << 16


class Channel:
    """Whole frames over two raw file descriptors, polled for briefly before each blocking
    read."""

    def __init__(self, fd_in: int, fd_out: int, spin: float = SPIN_SECONDS) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out
        self._spin = spin
        self.poller = Poller(spin)
        #: What was read and not yet taken: whole frames and a part of one (a frame usually
        #: comes in one read, so one system call per frame instead of two).
        self._buffer = bytearray()
        # Reads never block (the poller needs that); on a socket channel both fds share one
        # open file, so writes handle EAGAIN too.
        os.set_blocking(fd_in, False)

    def quiet(self, on: bool) -> None:
        """Stop polling (a quiet request was read) or resume it (any other request)."""
        self.poller.seconds = 0.0 if on else self._spin

    def _fill(self) -> None:
        """Add what the harness sent to the buffer: polled for, then waited for in ``select``;
        ``EOFError`` at the end of the stream."""
        data = self.poller.poll(self._read)
        while data is None:
            try:
                data = self._read()
            except BlockingIOError:
                select.select([self.fd_in], [], [])
        if not data:
            raise EOFError
        self._buffer += data

    def _read(self) -> bytes:
        return os.read(self.fd_in, READ_SIZE)

    def receive(self) -> dict[str, object]:
        """The next message from the harness."""
        buffer = self._buffer
        while len(buffer) < wire.HEADER_SIZE:
            self._fill()
        end = wire.HEADER_SIZE + wire.frame_length(bytes(buffer[: wire.HEADER_SIZE]))
        while len(buffer) < end:
            self._fill()
        body = bytes(buffer[wire.HEADER_SIZE : end])
        del buffer[:end]
        return wire.parse_from_harness(body)

    def send(self, message: dict[str, object]) -> None:
        """Send one message to the harness."""
        view = memoryview(wire.frame(message))
        while view:
            try:
                view = view[os.write(self.fd_out, view) :]
            except BlockingIOError:
                select.select([], [self.fd_out], [])
