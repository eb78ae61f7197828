"""Unit tests of the service's storage and workers, on a temporary SQLite database."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api import leases, store
from api.db import make_engine, make_sessions, migrate
from api.dispatch import LocalDispatcher
from api.jobqueue import LocalQueue
from api.keys import authenticate, create_key, hash_token, list_keys, revoke_key
from api.metrics import Metrics
from api.models import Status, Submission, utcnow
from api.notify import Notifier
from api.sweeper import Sweeper
from api.worker import GradingJob, WorkerPool
from grader.catalogue import Catalogue
from grader.errors import SandboxUnavailable
from grader.exercise import Exercise
from grader.harness.runner import SuiteOutcome
from grader.scoring import TestRecord

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "api" / "exercises"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A migrated database."""
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(engine)
    return engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions on it."""
    return make_sessions(engine)


def _new(owner: str = "key_a", key: str | None = None, text: str = "x = 1\n"
         ) -> store.NewSubmission:
    return store.NewSubmission(owner=owner, exercise="echo", files={"echo.py": text},
                               idempotency_key=key)


def test_keys_are_hashed_and_revocable(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        key, token = create_key(session, "alice")
        assert key.token_hash == hash_token(token) and token not in key.token_hash
        caller = authenticate(session, token)
        assert caller is not None and caller.id == key.id
        assert authenticate(session, token + "x") is None
        assert authenticate(session, "not-a-token") is None
        assert revoke_key(session, key.id) is not None
        assert authenticate(session, token) is None
        assert revoke_key(session, "key_missing") is None
        assert [k.name for k in list_keys(session)] == ["alice"]


def test_insert_is_idempotent_per_owner(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        row, created = store.insert(session, _new(key="k"))
        assert created and row.status == Status.RECEIVED.value
        again, created_again = store.insert(session, _new(key="k"))
        assert not created_again and again.id == row.id
        other, created_other = store.insert(session, _new(owner="key_b", key="k"))
        assert created_other and other.id != row.id
        assert store.find_idempotent(session, "key_a", "k") is not None
        assert store.count_unfinished(session, "key_a") == 1
        assert store.get_owned(session, "key_b", row.id) is None


def _claim(sessions: sessionmaker[Session], submission_id: str, owner: str = "node-a",
           lease: float = 30.0, max_attempts: int = 3) -> leases.Claim | None:
    return leases.claim(sessions, submission_id, owner, lease, max_attempts)


def test_claim_settle_and_stale_attempts(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        row, _ = store.insert(session, _new())
    claimed = _claim(sessions, row.id)
    assert claimed is not None and claimed.attempt == 1 and claimed.owner == "node-a"
    assert _claim(sessions, row.id, "node-b") is None  # nobody grades it twice
    stale = leases.Claim(row.id, "echo", "{}", 0, "node-a")
    assert not leases.settle(sessions, stale, Status.COMPLETED)  # a stale attempt
    other = leases.Claim(row.id, "echo", "{}", 1, "node-b")
    assert not leases.settle(sessions, other, Status.COMPLETED)  # not the lease holder
    assert leases.settle(sessions, claimed, Status.COMPLETED, score=1.0)
    assert not leases.settle(sessions, claimed, Status.ERROR)  # final stays final


def _row(sessions: sessionmaker[Session], submission_id: str) -> Submission:
    with sessions() as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        return row


def _sweeper(sessions: sessionmaker[Session], queue: LocalQueue,
             max_attempts: int = 3) -> Sweeper:
    return Sweeper(sessions, LocalDispatcher(queue), max_attempts, redispatch_after=60,
                   interval=1)


def test_sweeper_requeues_expired_leases_and_gives_up_after_max_attempts(
        sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        ids = [store.insert(session, _new(key=str(i)))[0].id for i in range(3)]
    queue = LocalQueue()
    sweeper = _sweeper(sessions, queue)
    assert sweeper.sweep() == 0  # just received: left to the request that stored them
    expired = _claim(sessions, ids[0], lease=-1)  # its worker died: the lease ran out
    alive = _claim(sessions, ids[1], "node-b", lease=60)
    assert expired is not None and alive is not None
    for _ in range(2):  # two more crashes of ids[2]
        assert _claim(sessions, ids[2], lease=-1) is not None
        sweeper.sweep()
    assert _claim(sessions, ids[2], lease=-1) is not None  # attempt 3 of 3 dies too
    sweeper.sweep()
    assert _row(sessions, ids[0]).status == "queued" and _row(sessions, ids[0]).attempts == 1
    assert _row(sessions, ids[1]).status == "running"  # a live lease is left alone
    assert _row(sessions, ids[2]).status == "error"
    assert _row(sessions, ids[2]).error == leases.give_up_message(3)
    assert not leases.settle(sessions, expired, Status.COMPLETED)  # taken away from it
    waiting = []
    while (item := queue.dequeue(0)) is not None:
        waiting.append(item)
    assert ids[0] in waiting and ids[1] not in waiting
    assert _claim(sessions, ids[0], "node-c") is not None  # regraded by another


def test_sweeper_hands_over_what_was_never_dispatched(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        row, _ = store.insert(session, _new())
        session.get(Submission, row.id).created_at -= timedelta(seconds=30)  # type: ignore[union-attr]
        session.commit()

    class Down:
        """A broker that is away."""

        def publish(self, submission_id: str) -> None:
            raise ConnectionError("broker down")

        def depth(self) -> int | None:
            return None

    assert Sweeper(sessions, Down(), 3, 60, 1).sweep() == 0
    assert _row(sessions, row.id).status == "received"
    assert _row(sessions, row.id).dispatched_at is None  # due again at the next sweep
    queue = LocalQueue()
    assert _sweeper(sessions, queue).sweep() == 1
    assert queue.dequeue(0) == row.id and _row(sessions, row.id).status == "queued"
    assert _sweeper(sessions, queue).sweep() == 0  # handed over: not again before long


def test_release_gives_back_only_what_is_still_ours(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        ids = [store.insert(session, _new(key=str(i)))[0].id for i in range(2)]
    mine = _claim(sessions, ids[0])
    lost = _claim(sessions, ids[1], lease=-1)
    assert mine is not None and lost is not None
    _sweeper(sessions, LocalQueue()).sweep()  # takes ids[1] away
    assert leases.release(sessions, [mine, lost]) == [ids[0]]
    assert _row(sessions, ids[0]).status == "queued"


def test_lease_keeper_renews_only_held_leases(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        ids = [store.insert(session, _new(key=str(i)))[0].id for i in range(2)]
    keeper = leases.LeaseKeeper(sessions, "node-a", lease_seconds=60)
    held, dropped = _claim(sessions, ids[0], lease=1), _claim(sessions, ids[1], lease=1)
    assert held is not None and dropped is not None
    keeper.hold(held)
    assert keeper.renew() == 1
    assert _row(sessions, ids[0]).lease_expires_at > utcnow() + timedelta(seconds=30)  # type: ignore[operator]
    assert _row(sessions, ids[1]).lease_expires_at < utcnow() + timedelta(seconds=2)  # type: ignore[operator]


class _FaultyRunner:
    """A runner whose sandbox is gone."""

    mode = "isolated"

    def run(self, exercise: Exercise, submission_dir: Path,
            tests: list[TestRecord]) -> SuiteOutcome:
        raise SandboxUnavailable("Docker daemon went away\nsecond line")


def test_grading_job_turns_grader_faults_into_error_status(
        sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        row, _ = store.insert(session, store.NewSubmission(
            owner="k", exercise="echo",
            files={"echo.py": (FIXTURES / "echo" / "reference" / "echo.py").read_text()}))
    metrics = Metrics()
    keeper = leases.LeaseKeeper(sessions, "node-a", 30)
    job = GradingJob(sessions, Catalogue(FIXTURES), _FaultyRunner(), metrics, Notifier(),
                     keeper, max_attempts=3)
    job(row.id)
    with sessions() as session:
        done = session.get(Submission, row.id)
        assert done is not None and done.status == "error"
        assert done.error == "grader fault: Docker daemon went away"
    assert 'grader_gradings_total{status="error"} 1' in metrics.render(0, 0, 1)


def test_worker_pool_survives_failing_jobs_and_stops() -> None:
    queue = LocalQueue()
    seen: list[str] = []
    lock = threading.Lock()

    def job(item: str) -> None:
        with lock:
            seen.append(item)
        if item == "boom" and seen.count("boom") == 1:
            raise RuntimeError("first try fails")

    pool = WorkerPool(2, queue, job)
    pool.start()
    for item in ("a", "boom", "b"):
        queue.enqueue(item)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sorted(seen) != ["a", "b", "boom", "boom"]:
        time.sleep(0.02)
    assert sorted(seen) == ["a", "b", "boom", "boom"]  # the failed one came round again
    assert pool.alive() == 2
    assert pool.stop(grace=5) == []
    assert pool.alive() == 0


def test_stored_files_round_trip(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        row, _ = store.insert(session, _new(text="print('héllo')\n"))
        assert json.loads(row.files) == {"echo.py": "print('héllo')\n"}
