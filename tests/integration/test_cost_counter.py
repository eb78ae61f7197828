"""``kit.cost`` reads the sandbox's CPU counter from the host before and after a batch. The
kernel charges CPU time to that counter when a process stops running (or at a timer tick), so
the reading after the answer must wait until the subject is back at rest
(``Subject.settle``): read at once, a batch of 0.2 ms read as costing nothing about once in
700 measurements (8 in 5,500 on Docker), which failed a correct skip list's complexity test
about once in 40 gradings."""

from __future__ import annotations

from typing import Any

from grader.bridge.client import Subject
from grader.bridge.proxy import Bridge, BridgeSide, FollowingProxy
from grader.harness.isolated import subject_job
from grader.testkit import Kit
from sandbox import DockerSandbox, ProcessSandbox, SandboxBackend, SandboxLimits

SOURCE = (
    b"def work(n):\n    total = 0\n    for i in range(n):\n        total += i\n    return total\n"
)
MEASUREMENTS = 6000


def test_no_measured_batch_costs_nothing(backend: str) -> None:
    sandbox: SandboxBackend = DockerSandbox() if backend == "docker" else ProcessSandbox()
    job = subject_job("work", SOURCE, SandboxLimits(wall_timeout=300))
    subject = Subject(lambda: sandbox.start(job), import_timeout=30)
    try:
        subject.start()
        subject.begin_test(300)
        bridge = Bridge(subject)
        kit: Any = Kit(BridgeSide([bridge]))
        module: Any = FollowingProxy(bridge)
        costs = [kit.cost(module.work, [(20,)] * 10) for _ in range(MEASUREMENTS)]
    finally:
        subject.close()
        sandbox.close()
    costs.sort()
    assert costs[0] > 0.0, f"{costs.count(0.0)} of {MEASUREMENTS} read as 0; median {costs[MEASUREMENTS // 2]}"
