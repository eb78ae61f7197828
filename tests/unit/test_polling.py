"""The poller reads an answer that comes within its window without blocking, and stops
polling for a while when answers keep coming late (a busy machine)."""

from __future__ import annotations

import time

from sandbox.polling import MISSES_BEFORE_PAUSE, PAUSED_WAITS, Poller


class Source:
    """A non-blocking read whose data is there from a given moment on."""

    def __init__(self) -> None:
        self.ready_at = float("inf")
        self.attempts = 0

    def read(self) -> bytes:
        self.attempts += 1
        if time.perf_counter() < self.ready_at:
            raise BlockingIOError
        return b"data"


def test_data_that_comes_within_the_window_is_read_by_polling() -> None:
    source, poller = Source(), Poller(0.05)
    source.ready_at = time.perf_counter() + 0.005
    assert poller.poll(source.read) == b"data" and source.attempts > 1


def test_data_already_there_is_read_even_without_polling() -> None:
    source, poller = Source(), Poller(0.0)
    assert poller.poll(source.read) is None and source.attempts == 1
    source.ready_at = 0.0
    assert poller.poll(source.read) == b"data"


def test_polls_that_keep_finding_nothing_pause_polling_then_it_is_tried_again() -> None:
    source, poller = Source(), Poller(0.001)
    for _ in range(MISSES_BEFORE_PAUSE):
        assert poller.poll(source.read) is None
        assert source.attempts > 1  # it polled
        source.attempts = 0
    for _ in range(PAUSED_WAITS):  # paused: one look each, then the caller blocks
        assert poller.poll(source.read) is None and source.attempts == 1
        source.attempts = 0
    assert poller.poll(source.read) is None and source.attempts > 1  # polling again


def test_a_hit_resets_the_count_of_misses() -> None:
    source, poller = Source(), Poller(0.01)
    for _ in range(MISSES_BEFORE_PAUSE - 1):
        assert poller.poll(source.read, limit=0.001) is None
    source.ready_at = time.perf_counter() + 0.002
    assert poller.poll(source.read) == b"data"
    source.ready_at = float("inf")
    for _ in range(MISSES_BEFORE_PAUSE - 1):
        poller.poll(source.read, limit=0.001)
    source.attempts = 0
    assert poller.poll(source.read, limit=0.001) is None and source.attempts > 1  # not paused
