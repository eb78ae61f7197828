"""Unit tests of the service's small parts: limits, file checks, queue, metrics, settings."""

from __future__ import annotations

import os
import threading
import time

import pytest

from api.errors import ApiError
from api.files import MAX_FILES, check_files, name_problem
from api.jobqueue import LocalQueue
from api.metrics import Metrics
from api.ratelimit import RateLimiter
from api.settings import Settings, SettingsInvalid
from grader.runners import SandboxChoice


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, capacity=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(1.0)
    assert limiter.acquire("b") == 0.0  # buckets are per key
    clock.now = 0.5
    assert limiter.acquire("a") == pytest.approx(0.5)
    clock.now = 1.0
    assert limiter.acquire("a") == 0.0
    clock.now = 1000.0
    assert [limiter.acquire("a") for _ in range(4)][-1] > 0  # refill is capped at capacity


@pytest.mark.parametrize(("name", "problem"), [
    ("lru_cache.py", ""),
    ("../lru_cache.py", "paths"),
    ("a/lru_cache.py", "paths"),
    ("a\\lru_cache.py", "paths"),
    ("..", "'..'"),
    (".lru_cache.py", "dotfiles"),
    ("conftest.py", "configure the test run"),
    ("PYTEST.INI", "configure the test run"),
    ("sitecustomize.py", "configure the test run"),
    ("other.py", "only the exercise's module"),
    ("", "empty"),
    ("lru_cache.py\x00", "control characters"),
])
def test_file_name_rules(name: str, problem: str) -> None:
    found = name_problem(name, "lru_cache.py")
    assert (problem in found) if problem else found == ""


def test_check_files_codes() -> None:
    assert check_files({"m.py": b"x = 1\n"}, "m.py") == {"m.py": "x = 1\n"}
    cases: list[tuple[dict[str, str | bytes], str]] = [
        ({f"f{i}.py": "" for i in range(MAX_FILES + 1)}, "too_many_files"),
        ({"m.py": "", "conftest.py": ""}, "bad_file_name"),
        ({}, "missing_module"),
        ({"m.py": b"\xc3\x28"}, "not_utf8"),
        ({"m.py": "\udc80"}, "not_utf8"),
    ]
    for files, code in cases:
        with pytest.raises(ApiError) as caught:
            check_files(files, "m.py")
        assert caught.value.status == 422 and caught.value.code == code


def test_local_queue_is_fifo_with_ack_and_nack() -> None:
    queue = LocalQueue()
    for item in ("a", "b", "a"):
        queue.enqueue(item)
    assert queue.depth() == 2  # "a" was already waiting
    assert queue.dequeue(0) == "a"
    queue.nack("a")
    assert queue.dequeue(0) == "a"
    queue.ack("a")
    assert queue.dequeue(0) == "b"
    assert queue.dequeue(0.01) is None


def test_local_queue_wakes_a_waiting_consumer() -> None:
    queue = LocalQueue()
    got: list[str | None] = []
    consumer = threading.Thread(target=lambda: got.append(queue.dequeue(5)))
    consumer.start()
    time.sleep(0.05)
    queue.enqueue("x")
    consumer.join(5)
    assert got == ["x"]


def test_metrics_text_format() -> None:
    metrics = Metrics()
    metrics.accepted()
    metrics.rejected("rate_limited")
    metrics.graded("completed", "passed", 0.7)
    metrics.graded("error", "", 400.0)
    text = metrics.render(queue_depth=3, running=1, workers=2)
    # prometheus_client writes every value, and the bucket bounds, as floats
    assert "grader_queue_depth 3.0\n" in text
    assert 'grader_gradings_total{status="completed"} 1.0\n' in text
    assert 'grader_gradings_total{status="error"} 1.0\n' in text
    assert 'grader_grading_results_total{result="passed"} 1.0\n' in text
    assert 'grader_submissions_rejected_total{reason="rate_limited"} 1.0\n' in text
    assert 'grader_grading_duration_seconds_bucket{le="0.5"} 0.0\n' in text
    assert 'grader_grading_duration_seconds_bucket{le="1.0"} 1.0\n' in text
    assert 'grader_grading_duration_seconds_bucket{le="300.0"} 1.0\n' in text
    assert 'grader_grading_duration_seconds_bucket{le="+Inf"} 2.0\n' in text
    assert "grader_grading_duration_seconds_count 2.0\n" in text
    assert "# TYPE grader_grading_duration_seconds histogram" in text


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No GRADER_* variable of the developer's; set the test's own with the returned patch."""
    for name in [n for n in os.environ if n.startswith("GRADER_")]:
        monkeypatch.delenv(name)
    return monkeypatch


def test_settings_come_from_env_then_flags(clean_env: pytest.MonkeyPatch) -> None:
    env = {"GRADER_PORT": " 9000 ", "GRADER_OPEN_MODE": "true", "GRADER_SANDBOX": "process",
           "GRADER_WORKERS": "3", "GRADER_RATE_BURST": "", "GRADER_MAX_WAIT": "  ",
           "GRADER_UNRELATED": "x", "GRADER_SANDBOX_IMAGE": "img:2"}
    for name, value in env.items():
        clean_env.setenv(name, value)
    settings = Settings.from_env(port=None, workers=5)
    assert settings.port == 9000 and settings.open_mode and settings.workers == 5
    assert settings.sandbox is SandboxChoice.PROCESS and settings.rate_burst == 10
    assert settings.max_wait == 30.0 and settings.sandbox_image == "img:2"
    assert settings.host == "127.0.0.1" and settings.is_loopback
    assert settings.sandbox_runtime is None and settings.exercises_dir is None
    clean_env.setenv("GRADER_WORKERS", "0")
    with pytest.raises(SettingsInvalid, match="GRADER_WORKERS"):
        Settings.from_env()
    with pytest.raises(SettingsInvalid, match="GRADER_NO_SUCH_FLAG"):
        Settings.from_env(no_such_flag=1)


def test_service_defaults_without_env(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    assert settings.open_mode is False and settings.sandbox is SandboxChoice.AUTO
    assert settings.port == 8000 and settings.workers == (os.cpu_count() or 1)
    assert settings.database_url.endswith("hidden-grader/grader.sqlite3")
