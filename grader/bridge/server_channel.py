"""The subject server's end of the channel: whole frames over two raw file descriptors.
Stdlib-only: it runs inside the sandbox.

A bridged operation is a round trip, and most take microseconds of work on either side; what
they cost is mostly the kernel putting a blocked reader to sleep and waking it again (about
70 us of a 90 us round trip on a small virtual machine). So a reader first polls for a short
while (:data:`SPIN_SECONDS`) before it blocks: an answer that comes within that time is read
without sleeping. The harness does the same on its end (``sandbox.docker_socket``).

Polling burns CPU time that the sandbox's counter sees, so the harness can ask for a quiet
request (``"quiet": true``, for requests whose CPU time it measures, ``kit.cost``): from the
moment such a request is read until the next request comes, this end never polls.
"""

from __future__ import annotations

import os
import select
import time

from grader.bridge import wire

#: How long a reader polls before it blocks, in seconds. The harness's reply to a reverse call
#: or its next request usually comes within tens of microseconds.
SPIN_SECONDS = 0.0002


class Channel:
    """Whole frames over two raw file descriptors, polled briefly before each blocking read."""

    def __init__(self, fd_in: int, fd_out: int, spin: float = SPIN_SECONDS) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out
        #: How long the next reads poll first (0: they block at once); see :meth:`quiet`.
        self.spin = self._spin = spin
        if spin:
            # Both ends of a socket channel share one open file: writes handle EAGAIN too.
            os.set_blocking(fd_in, False)

    def quiet(self, on: bool) -> None:
        """Stop polling (a quiet request was read) or resume it (any other request)."""
        self.spin = 0.0 if on else self._spin

    def _read_some(self, n: int) -> bytes:
        """Up to ``n`` bytes, polling for :attr:`spin` seconds before waiting in ``select``."""
        if self.spin:
            give_up = time.perf_counter() + self.spin
            while True:
                try:
                    return os.read(self.fd_in, n)
                except BlockingIOError:
                    if time.perf_counter() >= give_up:
                        break
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
        return wire.parse(self._read_exact(length))

    def send(self, message: dict[str, object]) -> None:
        """Send one message to the harness."""
        view = memoryview(wire.frame(message))
        while view:
            try:
                view = view[os.write(self.fd_out, view) :]
            except BlockingIOError:
                select.select([], [self.fd_out], [])
