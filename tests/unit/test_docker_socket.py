"""The socket channel's host side, without Docker: its directories, listener and channel."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxLimits, docker_socket
from sandbox.bootstrap import READY
from sandbox.channel import OutputBuffer
from sandbox.docker_container import create_with_channel
from sandbox.docker_socket import (
    CHANNEL_LABEL,
    DirectSocketChannel,
    ErrorStream,
    Listener,
    SocketChannel,
    is_mount_refused,
    new_channel_dir,
    prune_channel_dirs,
    remove_channel_dir,
)
from sandbox.errors import SandboxTimeout


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A channel base of this test's own."""
    where = tmp_path / "channels"
    monkeypatch.setattr(docker_socket, "channel_base", lambda: where)
    return where


def _made() -> tuple[str, Path]:
    made = new_channel_dir()
    assert made is not None
    return made


def test_channel_dirs_are_private_to_this_user_and_removed_by_token(base: Path) -> None:
    made = new_channel_dir()
    assert made is not None
    token, path = made
    assert path.parent == base and path.is_dir()
    assert stat.S_IMODE(base.stat().st_mode) == 0o700  # no other host user reaches a socket
    remove_channel_dir("../" + token)  # not a token: nothing happens
    assert path.exists()
    remove_channel_dir(token)
    assert not path.exists()


def test_a_base_that_is_a_symlink_is_not_used(base: Path, tmp_path: Path) -> None:
    """Someone else's directory (here a symlink to one) could let them reach the sockets: no
    channel directory then, and the runs use the attach stream."""
    (tmp_path / "elsewhere").mkdir()
    base.symlink_to(tmp_path / "elsewhere")
    assert new_channel_dir() is None
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_base_owned_by_another_user_is_not_used(base: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("only root can give the directory away")
    base.mkdir(mode=0o700)
    os.chown(base, 65534, 65534)
    assert new_channel_dir() is None


def test_prune_keeps_live_and_young_directories(base: Path) -> None:
    live, old, young = (_made() for _ in range(3))
    long_ago = time.time() - 3600
    for _token, path in (live, old):
        os.utime(path, (long_ago, long_ago))
    prune_channel_dirs({live[0]})
    assert live[1].exists() and young[1].exists() and not old[1].exists()


def test_the_listener_takes_the_bootstraps_two_connections_then_the_socket_is_gone(
    base: Path,
) -> None:
    _token, path = _made()
    listener = Listener(path)
    channel, errors = socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX)
    channel.connect(str(path / "s"))
    errors.connect(str(path / "s"))
    pair = listener.accept(time.monotonic() + 5, threading.Event())
    assert pair is not None
    assert not path.exists()  # nobody can connect again
    with pytest.raises(OSError):
        socket.socket(socket.AF_UNIX).connect(str(path / "s"))
    # In the order they were made: the first is the channel, the second stderr.
    channel.sendall(b"first")
    errors.sendall(b"second")
    assert pair[0].recv(16) == b"first" and pair[1].recv(16) == b"second"
    for sock in (*pair, channel, errors):
        sock.close()


def test_the_listener_wants_both_connections(base: Path) -> None:
    """A bootstrap that connected once and ended is a failed start, not a channel without
    stderr."""
    _token, path = _made()
    listener = Listener(path)
    client = socket.socket(socket.AF_UNIX)
    client.connect(str(path / "s"))
    assert listener.accept(time.monotonic() + 0.3, threading.Event()) is None
    assert not path.exists()
    client.close()


def test_the_error_stream_feeds_stderr_and_says_when_it_ended() -> None:
    host, program = socket.socketpair()
    err = OutputBuffer(1 << 20)
    stream = ErrorStream(host, err)
    program.sendall(b"a warning\n")
    assert not stream.ended.wait(0.1)
    program.close()
    assert stream.ended.wait(5)
    assert err.take_all() == b"a warning\n"
    stream.close()


def test_the_listener_gives_up_when_the_bootstrap_ended(base: Path) -> None:
    _token, path = _made()
    ended = threading.Event()
    ended.set()
    assert Listener(path).accept(time.monotonic() + 30, ended) is None
    assert not path.exists()
    _token, path = _made()
    started = time.monotonic()
    assert Listener(path).accept(time.monotonic() + 0.2, threading.Event()) is None
    assert time.monotonic() - started < 5


def test_a_listener_closed_while_it_waits_gives_up(base: Path) -> None:
    """The run's exit watcher closes the listener when the container ends, possibly while the
    start is waiting for the bootstrap (a bootstrap that failed): no connection, no error."""
    _token, path = _made()
    listener = Listener(path)
    outcome: list[object] = []

    def wait() -> None:
        try:
            outcome.append(listener.accept(time.monotonic() + 30, threading.Event()))
        except Exception as exc:  # what the start would have raised
            outcome.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.1)
    listener.close()
    waiter.join(10)
    assert outcome == [None]


def test_the_channel_strips_ready_and_carries_both_ways() -> None:
    host, program = socket.socketpair()
    out = OutputBuffer(1 << 20, lifetime=False)
    channel = SocketChannel(host, out, READY)
    program.sendall(READY + b"hello")
    assert channel.gate.ready.wait(5) and channel.gate.ok
    assert out.read(100, timeout=5) == b"hello"
    channel.send(b"ping", timeout=5)
    assert program.recv(100) == b"ping"
    channel.close_write()
    assert program.recv(100) == b""  # the program reads EOF
    program.close()
    channel.close()
    assert out.read(100, timeout=5) == b""


def test_a_caller_that_reads_reads_the_socket_itself() -> None:
    host, program = socket.socketpair()
    out = OutputBuffer(1 << 20, lifetime=False)
    channel = DirectSocketChannel(host, out, READY)
    program.sendall(READY + b"hel")
    channel.read_ready(time.monotonic() + 5, threading.Event())
    assert channel.gate.ready.is_set() and channel.gate.ok
    assert channel.recv(2) == b"he" and channel.recv(100) == b"l"  # what came with READY
    started = time.monotonic()
    with pytest.raises(SandboxTimeout):  # nothing more yet: a timeout, not the end
        channel.recv(100, timeout=0.2)
    assert time.monotonic() - started >= 0.2
    program.sendall(b"lo")
    assert channel.recv(100, timeout=5) == b"lo"
    channel.send(b"ping", timeout=5)
    assert program.recv(100) == b"ping"
    program.close()
    assert channel.recv(100, timeout=5) == b""  # the program's end
    assert channel.recv(100, timeout=5) == b""
    channel.close()


def test_a_send_cut_short_says_how_much_went_through_and_can_be_resumed() -> None:
    """A program that stops reading: the send times out with the count written (its first
    write, which usually takes a whole frame, included), and the rest arrives in order."""
    host, program = socket.socketpair()
    channel = DirectSocketChannel(host, OutputBuffer(1 << 20, lifetime=False), READY)
    data = bytes(range(256)) * 8192  # 2 MiB: far more than a socket buffer holds
    with pytest.raises(SandboxTimeout) as cut:
        channel.send(data, timeout=0.05)
    written = cut.value.written
    assert written is not None and 0 < written < len(data)
    received = bytearray()

    def drain() -> None:
        while len(received) < len(data):
            received.extend(program.recv(1 << 16))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    channel.send(data[written:], timeout=5)
    reader.join(10)
    assert bytes(received) == data
    program.close()
    channel.close()


def test_a_caller_polls_briefly_before_it_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer already there (or there within ``SPIN_SECONDS``) is read without going to
    sleep in ``select``; a later one is waited for there."""
    host, program = socket.socketpair()
    channel = DirectSocketChannel(host, OutputBuffer(4096, lifetime=False), READY)
    program.sendall(READY)
    channel.read_ready(time.monotonic() + 5, threading.Event())
    waits: list[float | None] = []
    real_select = docker_socket.select.select

    def counted(r: Any, w: Any, x: Any, timeout: float | None = None) -> Any:
        waits.append(timeout)
        return real_select(r, w, x, timeout)

    monkeypatch.setattr(docker_socket.select, "select", counted)
    program.sendall(b"now")
    assert channel.recv(100, timeout=5) == b"now" and waits == []
    threading.Timer(0.1, lambda: program.sendall(b"later")).start()
    assert channel.recv(100, timeout=5) == b"later" and waits == [5]
    program.close()
    channel.close()


def test_closing_wakes_a_caller_waiting_to_read() -> None:
    host, program = socket.socketpair()
    channel = DirectSocketChannel(host, OutputBuffer(4096, lifetime=False), READY)
    program.sendall(READY)
    channel.read_ready(time.monotonic() + 5, threading.Event())
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(channel.recv(100, timeout=30)))
    reader.start()
    time.sleep(0.1)
    channel.close()  # e.g. the container ended: the waiting read sees the end at once
    reader.join(5)
    assert got == [b""] and not reader.is_alive()
    program.close()


def test_a_bootstrap_that_never_says_ready_fails_the_gate() -> None:
    host, program = socket.socketpair()
    channel = DirectSocketChannel(host, OutputBuffer(4096, lifetime=False), READY)
    program.sendall(b"oops")
    program.close()
    channel.read_ready(time.monotonic() + 5, threading.Event())
    assert channel.gate.ready.is_set() and not channel.gate.ok
    silent_host, silent = socket.socketpair()
    quiet = DirectSocketChannel(silent_host, OutputBuffer(4096, lifetime=False), READY)
    gave_up = threading.Event()
    gave_up.set()  # the bootstrap ended on the attach stream
    quiet.read_ready(time.monotonic() + 30, gave_up)
    assert quiet.gate.ready.is_set() and not quiet.gate.ok
    silent.close()
    quiet.close()
    channel.close()


def test_a_refused_mount_is_recognised() -> None:
    assert is_mount_refused(Exception("invalid mount config for type bind: bind source path"))
    assert is_mount_refused(Exception("Bind source path does not exist: /tmp/x"))
    assert not is_mount_refused(Exception("No such image: hidden-grader-runner:1"))


class _Daemon:
    """Just enough of ``docker.APIClient`` to create containers; ``remote`` refuses mounts of
    this machine's directories, as a daemon elsewhere does."""

    def __init__(self, remote: bool) -> None:
        self.remote = remote
        self.created: list[dict[str, Any]] = []

    def create_container_from_config(self, config: dict[str, Any]) -> dict[str, str]:
        if self.remote and config["HostConfig"].get("Mounts"):
            raise RuntimeError(
                "invalid mount config for type bind: bind source path does not exist"
            )
        self.created.append(config)
        return {"Id": f"c{len(self.created)}"}


def test_a_container_gets_its_channel_directory_read_only(base: Path) -> None:
    daemon = _Daemon(remote=False)
    made, channel, still = create_with_channel(daemon, "img", None, "65534:65534", SandboxLimits())
    assert channel is not None and still and made == "c1"
    (mount,) = daemon.created[0]["HostConfig"]["Mounts"]
    assert (mount["Source"], mount["Target"], mount["ReadOnly"]) == (
        str(channel[1]),
        "/grader-channel",
        True,
    )
    assert daemon.created[0]["Labels"][CHANNEL_LABEL] == channel[0]


def test_a_daemon_that_cannot_mount_gets_the_attach_stream_from_then_on(base: Path) -> None:
    daemon = _Daemon(remote=True)
    made, channel, still = create_with_channel(daemon, "img", None, "65534:65534", SandboxLimits())
    assert (made, channel, still) == ("c1", None, False)
    assert "Mounts" not in daemon.created[0]["HostConfig"]
    assert list(base.iterdir()) == []  # the refused directory is gone
