"""``kit.cost`` reads the sandbox's CPU counter from the host before and after a batch. The
kernel adds a task's CPU time to that counter when the task stops running (or at a timer
tick), so the reading after the answer waits until no task of the sandbox is running
(``SandboxRun.cpu_usage(settle=...)``). Read at once, a subject still on its way back to
waiting had a 0.2 ms batch read as 0 about once in 2,000 costs. Here a call leaves a process
spinning for a few milliseconds after the answer: its time is in the cost only if the reading
waited for it (without the wait the cost is that of the call alone)."""

from __future__ import annotations

from typing import Any

from grader.bridge.client import Subject
from grader.bridge.proxy import Bridge, BridgeSide, FollowingProxy
from grader.harness.isolated import subject_job
from grader.testkit import Kit
from sandbox import DockerSandbox, ProcessSandbox, SandboxBackend, SandboxLimits

TAIL_SECONDS = 0.004
SOURCE = f"""
import os, time

def leave_a_tail():
    if os.fork() == 0:  # a process of its own: it does not wait for the answer to be sent
        end = time.process_time() + {TAIL_SECONDS}
        while time.process_time() < end:
            pass
        os._exit(0)
""".encode()


def test_a_cost_counts_work_still_running_after_the_answer(backend: str) -> None:
    sandbox: SandboxBackend = DockerSandbox() if backend == "docker" else ProcessSandbox()
    job = subject_job("tail", SOURCE, SandboxLimits(wall_timeout=120))
    subject = Subject(lambda: sandbox.start(job), import_timeout=30)
    try:
        subject.start()
        subject.begin_test(120)
        bridge = Bridge(subject)
        kit: Any = Kit(BridgeSide([bridge]))
        module: Any = FollowingProxy(bridge)
        costs = sorted(kit.cost(module.leave_a_tail, [()]) for _ in range(20))
    finally:
        subject.close()
        sandbox.close()
    assert costs[10] >= TAIL_SECONDS * 0.9, costs
