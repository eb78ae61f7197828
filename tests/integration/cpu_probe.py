"""A program that burns CPU on request, and a reading of its CPU time taken from the host:
shared by the Docker and the process backends' ``cpu_usage()`` tests."""

from __future__ import annotations

import contextlib

from sandbox import SandboxRun, SandboxTimeout

CPU_SERVER = """
    import os, sys, time

    def burn(seconds):
        start = time.process_time()
        while time.process_time() - start < seconds:
            pass

    for line in sys.stdin:
        command = line.strip()
        if command == "busy":
            burn(0.3)
        elif command == "idle":
            time.sleep(0.3)
        elif command in ("fork", "forks"):
            # One child burning 0.3 s, or 30 burning 0.01 s each (too short-lived
            # to be seen by sampling the live process tree).
            count, each = (1, 0.3) if command == "fork" else (30, 0.01)
            for _ in range(count):
                pid = os.fork()
                if pid == 0:
                    burn(each)
                    os._exit(0)
                os.waitpid(pid, 0)
        print("done", flush=True)
"""


def cpu_of(run: SandboxRun, command: bytes, poll: bool = True) -> float:
    """CPU seconds ``command`` took, read from the host before and after it.

    With ``poll`` it also reads every 20 ms meanwhile and checks the readings never go down.
    """
    before = run.cpu_usage()
    assert before is not None
    run.send(command + b"\n")
    samples, got = [before], b""
    while not got.endswith(b"\n"):
        with contextlib.suppress(SandboxTimeout):
            got += run.recv(64, timeout=0.02)
        now = run.cpu_usage() if poll else before
        assert now is not None
        samples.append(now)
    after = run.cpu_usage()
    assert got == b"done\n" and after is not None
    assert samples == sorted(samples) and after >= samples[-1], samples
    return after - before
