"""FakeSandbox: the scripted backend used by the layers above."""

from __future__ import annotations

import time

import pytest

from sandbox import ChannelClosed, FakeIO, FakeSandbox, SandboxJob, SandboxLimits, SandboxTimeout

JOB = SandboxJob(argv=["python3", "main.py"], files={"main.py": b""})


def test_echo_program_and_recorded_jobs() -> None:
    def echo(io: FakeIO) -> int:
        io.write(io.read())
        io.write_stderr(b"note")
        return 3

    backend = FakeSandbox(echo)
    result = backend.run(JOB, stdin=b"ping")
    assert (result.exit_code, result.stdout, result.stderr) == (3, b"ping", b"note")
    assert backend.jobs == [JOB] and backend.security_boundary is False


def test_interactive_channel_line_protocol() -> None:
    def server(io: FakeIO) -> None:
        while line := io.readline():
            io.write(line.upper())

    with FakeSandbox(server).start(JOB) as run:
        for word in (b"a\n", b"bc\n"):
            run.send(word)
            assert run.recv(10, timeout=2) == word.upper()
        with pytest.raises(SandboxTimeout):
            run.recv(10, timeout=0.05)
        run.close_stdin()
        assert run.recv(10, timeout=2) == b""
        result = run.wait(timeout=2)
    assert result.exit_code == 0 and result.stdout == b""
    with pytest.raises(ChannelClosed):
        run.send(b"late")


def test_exception_is_exit_1_with_traceback() -> None:
    def crash(io: FakeIO) -> int:
        raise ValueError("boom")

    result = FakeSandbox(crash).run(JOB)
    assert result.exit_code == 1 and b"ValueError: boom" in result.stderr


def test_system_exit_and_none_return() -> None:
    def exits(io: FakeIO) -> None:
        raise SystemExit(4)

    assert FakeSandbox(exits).run(JOB).exit_code == 4
    assert FakeSandbox().run(JOB).exit_code == 0


def test_die_fakes_a_memory_kill() -> None:
    def hog(io: FakeIO) -> None:
        io.die(memory_killed=True)

    result = FakeSandbox(hog).run(JOB)
    assert result.memory_killed and result.signal == 9 and result.exit_code is None


def test_wall_timeout_kills_a_stuck_program() -> None:
    def stuck(io: FakeIO) -> None:
        io.read()  # never gets input

    job = SandboxJob(argv=["x"], limits=SandboxLimits(wall_timeout=0.3))
    started = time.monotonic()
    with FakeSandbox(stuck).start(job) as run:
        result = run.wait(timeout=5)
    assert result.timed_out and result.signal == 9
    assert 0.3 <= time.monotonic() - started < 2
    assert 0.3 <= result.wall_time < 2


def test_output_cap_truncates_and_stops() -> None:
    def flood(io: FakeIO) -> None:
        while True:
            io.write(b"x" * 1000)

    job = SandboxJob(argv=["x"], limits=SandboxLimits(output_bytes=2500))
    result = FakeSandbox(flood).run(job)
    assert result.output_truncated and result.stdout == b"x" * 2500 and result.signal == 9


def test_kill_idempotent_and_wait_timeout() -> None:
    def sleeper(io: FakeIO) -> None:
        io.read()

    run = FakeSandbox(sleeper).start(JOB)
    with pytest.raises(SandboxTimeout):
        run.wait(timeout=0.05)
    first = run.kill()
    assert run.kill() is first and run.wait() is first and run.done


def test_unread_stdout_lands_in_result_once() -> None:
    def talk(io: FakeIO) -> None:
        io.write(b"first")
        io.write(b"second")

    run = FakeSandbox(talk).start(JOB)
    result = run.wait(timeout=2)
    assert result.stdout == b"firstsecond"
    assert run.recv(100, timeout=1) == b""  # nothing delivered twice
