"""Channel pieces without Docker: capped buffer, frame demux, READY gate, bootstrap."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sandbox import ChannelClosed, SandboxTimeout
from sandbox.bootstrap import BOOTSTRAP, READY, encode_bundle
from sandbox.channel import OutputBuffer, ReadyGate, write_within
from sandbox.docker_channel import AttachChannel, raw_socket


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_buffer_caps_and_calls_overflow_once() -> None:
    calls = []
    buf = OutputBuffer(10, on_overflow=lambda: calls.append(1))
    buf.feed(b"12345")
    buf.feed(b"67890ABC")
    buf.feed(b"more")
    assert buf.truncated and calls == [1] and buf.accepted == 10
    assert buf.read(100) == b"1234567890"


def test_buffer_read_waits_times_out_and_sees_eof() -> None:
    buf = OutputBuffer(100)
    with pytest.raises(SandboxTimeout):
        buf.read(10, timeout=0.05)
    with pytest.raises(TimeoutError):  # SandboxTimeout is also a TimeoutError
        buf.read(10, timeout=0.01)
    threading.Timer(0.05, buf.feed, args=(b"late",)).start()
    assert buf.read(2, timeout=5) == b"la"
    assert buf.read(10, timeout=5) == b"te"
    buf.feed(b"tail")
    buf.close()
    assert buf.read(10) == b"tail"
    assert buf.read(10) == b"" and buf.read(10, timeout=0) == b""


def test_attach_channel_demuxes_split_headers_and_frames() -> None:
    host, daemon = socket.socketpair()
    out, err = OutputBuffer(100_000), OutputBuffer(100)
    chan = AttachChannel(raw_socket(host), out, err, READY)
    chan.start()
    small = frame(1, READY + b"hello") + frame(2, b"oops")
    for i in range(0, len(small), 3):  # headers and payloads cut across reads
        daemon.sendall(small[i : i + 3])
        time.sleep(0.001)
    big = frame(1, b"x" * 70000)
    for i in range(0, len(big), 1000):
        daemon.sendall(big[i : i + 1000])
    daemon.close()
    chan.close()
    assert chan.gate.ok
    assert out.take_all() == b"hello" + b"x" * 70000 and err.take_all() == b"oops"


def test_ready_gate_strips_marker_or_reports_failure() -> None:
    out = OutputBuffer(100)
    gate = ReadyGate(READY, out)
    gate.feed(READY[:3])
    assert not gate.ready.is_set()
    gate.feed(READY[3:] + b"program")
    assert gate.ok and out.read(100) == b"program"

    bad_out = OutputBuffer(100)
    bad = ReadyGate(READY, bad_out)
    bad.feed(b"Traceback")
    assert bad.ready.is_set() and not bad.ok and bad_out.read(100) == b"Traceback"

    early = ReadyGate(READY, OutputBuffer(100))
    early.eof()
    assert early.ready.is_set() and not early.ok


def test_attach_channel_over_socketpair() -> None:
    host, daemon = socket.socketpair()
    out, err = OutputBuffer(1000), OutputBuffer(1000)
    chan = AttachChannel(raw_socket(host), out, err, READY)
    chan.start()
    daemon.sendall(frame(1, READY + b"hi ") + frame(2, b"warn") + frame(1, b"there"))
    assert chan.gate.ready.wait(5) and chan.gate.ok
    got = b""
    while len(got) < 8:
        got += out.read(100, timeout=5)
    assert got == b"hi there"
    chan.send(b"to program")
    assert daemon.recv(100) == b"to program"
    chan.close_write()
    assert daemon.recv(100) == b""  # half-close reached the "daemon"
    with pytest.raises(ChannelClosed):
        chan.send(b"late")
    daemon.close()
    chan.close()
    assert out.read(10, timeout=5) == b"" and err.read(10) == b"warn"


def test_bootstrap_writes_files_then_execs(tmp_path: Path) -> None:
    files = {"main.py": b"print('x')", "pkg/sub/mod.py": b"X = 1", "data.bin": os.urandom(300000)}
    program = "import sys, os; sys.stdout.write(sys.stdin.read() + ':' + os.environ['PATH'])"
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", BOOTSTRAP],
        input=encode_bundle([sys.executable, "-c", program], files) + b"stdin for the program",
        capture_output=True,
        cwd=tmp_path,
        check=True,
    )
    assert proc.stdout == READY + b"stdin for the program:/usr/local/bin:/usr/bin:/bin"
    for path, data in files.items():
        assert (tmp_path / path).read_bytes() == data


def test_bootstrap_reports_missing_program(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", BOOTSTRAP],
        input=encode_bundle(["no-such-program-xyz"], {}),
        capture_output=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 127 and b"cannot run" in proc.stderr


def test_bootstrap_refuses_truncated_bundle(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", BOOTSTRAP],
        input=encode_bundle(["true"], {"a": b"12345"})[:-2],
        capture_output=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1 and b"stdin closed" in proc.stderr
    assert proc.stdout == b"" and time.monotonic() - started < 10


def test_channel_cap_bounds_unread_bytes_only() -> None:
    from sandbox.channel import OutputBuffer

    overflows: list[int] = []
    buffer = OutputBuffer(10, on_overflow=lambda: overflows.append(1), lifetime=False)
    for _ in range(5):
        buffer.feed(b"12345678")
        assert buffer.read(100, timeout=0) == b"12345678"
    assert not buffer.truncated and overflows == []
    buffer.feed(b"12345678")
    buffer.feed(b"12345678")
    assert buffer.truncated and overflows == [1]
    assert buffer.take_all() == b"1234567812"


def test_a_write_cut_short_says_how_much_went_through_and_can_be_resumed() -> None:
    """A reader that stops reading: the write times out with the count written, and the
    rest, sent once the reader drains, arrives whole and in order."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    data = bytes(range(256)) * 4096  # 1 MiB: far more than a pipe holds
    with pytest.raises(SandboxTimeout) as cut:
        write_within(lambda view: os.write(write_end, view), write_end, data, 0.05)
    written = cut.value.written
    assert written is not None and 0 < written < len(data)
    received = bytearray()
    reader = threading.Thread(
        target=lambda: received.extend(_read_all(read_end, len(data))), daemon=True
    )
    reader.start()
    write_within(lambda view: os.write(write_end, view), write_end, data[written:], 5.0)
    reader.join(10)
    os.close(write_end)
    os.close(read_end)
    assert bytes(received) == data


def _read_all(fd: int, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = os.read(fd, n - len(chunks))
        if not chunk:
            break
        chunks += chunk
    return bytes(chunks)
