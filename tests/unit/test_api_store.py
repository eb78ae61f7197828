"""Unit tests of the service's storage and workers, on a temporary SQLite database."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api import store
from api.db import make_engine, make_sessions, migrate
from api.jobqueue import LocalQueue
from api.keys import authenticate, create_key, hash_token, list_keys, revoke_key
from api.metrics import Metrics
from api.models import Status, Submission
from api.notify import Notifier
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
        assert created and row.status == Status.QUEUED.value
        again, created_again = store.insert(session, _new(key="k"))
        assert not created_again and again.id == row.id
        other, created_other = store.insert(session, _new(owner="key_b", key="k"))
        assert created_other and other.id != row.id
        assert store.find_idempotent(session, "key_a", "k") is not None
        assert store.count_unfinished(session, "key_a") == 1
        assert store.get_owned(session, "key_b", row.id) is None


def test_claim_settle_and_stale_attempts(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        row, _ = store.insert(session, _new())
    claimed = store.claim(sessions, row.id)
    assert claimed is not None and claimed.attempts == 1 and claimed.status == "running"
    assert store.claim(sessions, row.id) is None  # nobody grades it twice
    assert not store.settle(sessions, row.id, 0, Status.COMPLETED)  # a stale attempt
    assert store.settle(sessions, row.id, 1, Status.COMPLETED, score=1.0)
    assert not store.settle(sessions, row.id, 1, Status.ERROR)  # final stays final


def test_recover_requeues_and_gives_up_after_max_attempts(
        sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        ids = [store.insert(session, _new(key=str(i)))[0].id for i in range(3)]
    store.claim(sessions, ids[0])  # running when the "crash" happened
    with sessions() as session:
        session.get(Submission, ids[1]).attempts = 3  # type: ignore[union-attr]
        session.get(Submission, ids[1]).status = "running"  # type: ignore[union-attr]
        session.commit()
    assert store.recover(sessions, max_attempts=3) == [ids[0], ids[2]]
    with sessions() as session:
        statuses = [session.get(Submission, i).status for i in ids]  # type: ignore[union-attr]
    assert statuses == ["queued", "error", "queued"]
    store.claim(sessions, ids[0])
    store.requeue(sessions, [ids[0]])
    with sessions() as session:
        assert session.get(Submission, ids[0]).status == "queued"  # type: ignore[union-attr]


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
    job = GradingJob(sessions, Catalogue(FIXTURES), _FaultyRunner(), metrics, Notifier())
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
