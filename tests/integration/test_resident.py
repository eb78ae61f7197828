"""Resident references against the real daemon (``grader.harness.resident``): the reference's
sandbox serves one grading after another, is lent to one grading at a time, and is removed
when a grading did not leave it clean, when it died, and when the process closes its pools.
The ``docker_sandbox`` fixture checks that no container is left."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader.catalogue import Catalogue
from grader.exercise import Exercise
from grader.grading import grade
from grader.harness.resident import Residents
from grader.harness.supervisor import ChildRunner, subject_limits
from grader.report import TestResult, TestStatus
from grader.runners import make_runner
from grader.settings import SandboxChoice
from grader.submission import from_path
from grader.warm import WarmPoolSettings, close_pools
from sandbox import DockerSandbox

from .warm_backend import wait_for

pytestmark = pytest.mark.docker


@pytest.fixture
def lru() -> Exercise:
    return Catalogue().get("lru-cache")  # its complexity tests use the reference


@pytest.fixture
def runner(docker_sandbox: DockerSandbox) -> Iterator[ChildRunner]:
    """A warm runner with one resident reference at most; its pools closed after the test."""
    made, _ = make_runner(SandboxChoice.DOCKER, warm=WarmPoolSettings(size=2, residents=1))
    assert isinstance(made, ChildRunner)
    try:
        yield made
    finally:
        close_pools()


def residents_of(runner: ChildRunner) -> Residents:
    assert runner.residents is not None
    return runner.residents


def exists(docker_sandbox: DockerSandbox, container_id: str) -> bool:
    return bool(docker_sandbox.api.containers(all=True, filters={"id": container_id}))


def test_a_resident_reference_serves_one_grading_after_another(
    docker_sandbox: DockerSandbox, runner: ChildRunner, lru: Exercise
) -> None:
    """The first grading starts its own reference and a resident for the next ones; those
    take only the submission's sandbox from the pool, and the resident stays the same."""
    reference = from_path(lru.reference_path, lru.meta.module)
    residents = residents_of(runner)
    assert grade(lru, reference, runner).passed
    wait_for(lambda: len(residents.idle_containers()) == 1)
    [resident] = residents.idle_containers()
    assert runner.pool is not None
    claims = runner.pool.stats().claims
    reports = [grade(lru, reference, runner) for _ in range(2)]
    assert [r.passed for r in reports] == [True, True], [r.message for r in reports]
    assert runner.pool.stats().claims - claims == 2  # one sandbox a grading: the submission's
    assert residents.idle_containers() == [resident]
    close_pools()
    assert not exists(docker_sandbox, resident)


def test_a_buggy_submission_still_fails_against_a_resident_reference(
    runner: ChildRunner, lru: Exercise
) -> None:
    """The resident measures like a fresh reference: a recency list scanned on every call
    fails the same tests, complexity tests among them, as with a reference of its own."""
    residents = residents_of(runner)
    grade(lru, from_path(lru.reference_path, lru.meta.module), runner)
    wait_for(lambda: len(residents.idle_containers()) == 1)
    mutant = from_path(lru.root / "mutants" / "list_recency.py", lru.meta.module)
    report = grade(lru, mutant, runner)
    assert len(residents.idle_containers()) == 1  # given back clean after that grading
    fresh, _ = make_runner(SandboxChoice.DOCKER, warm=WarmPoolSettings(size=2, residents=0))
    baseline = grade(lru, mutant, fresh)

    def failed(tests: list[TestResult]) -> set[str]:
        return {t.name for t in tests if t.status is not TestStatus.PASSED}

    assert failed(report.tests) == failed(baseline.tests)
    assert any(t.category == "complexity" for t in report.tests if t.name in failed(report.tests))


def test_a_resident_is_lent_to_one_grading_at_a_time_and_removed_unless_clean(
    docker_sandbox: DockerSandbox, runner: ChildRunner, lru: Exercise
) -> None:
    residents = residents_of(runner)
    limits = subject_limits(lru)
    assert residents.lend(lru, limits) is None  # none yet: one boots
    wait_for(lambda: len(residents.idle_containers()) == 1)
    [resident] = residents.idle_containers()
    lease = residents.lend(lru, limits)
    assert lease is not None and lease.spec()["container"] == resident
    assert residents.lend(lru, limits) is None  # lent already, and no room for a second
    residents.give_back(lease, clean=False)
    wait_for(lambda: not exists(docker_sandbox, resident))
    assert residents.idle_containers() == []


def test_a_resident_that_died_while_idle_is_not_lent(
    docker_sandbox: DockerSandbox, runner: ChildRunner, lru: Exercise
) -> None:
    """A resident gone while waiting (killed, the daemon restarted) is replaced: the grading
    that finds it dead starts its own reference and passes."""
    reference = from_path(lru.reference_path, lru.meta.module)
    residents = residents_of(runner)
    grade(lru, reference, runner)
    wait_for(lambda: len(residents.idle_containers()) == 1)
    [resident] = residents.idle_containers()
    docker_sandbox.api.kill(resident)
    wait_for(lambda: not exists(docker_sandbox, resident))
    report = grade(lru, reference, runner)
    assert report.passed, report.message
    wait_for(lambda: len(residents.idle_containers()) == 1)
    assert residents.idle_containers() != [resident]
