"""Per-key limits: the token-bucket rate limit and the cap on unfinished submissions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import (
    FIXTURE_EXERCISES,
    Server,
    assert_error,
    run_grader,
    submit,
    wait_final,
)
from tests.fleet.services import Backends


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory,
            mode_backends: Backends | None) -> Iterator[Server]:
    """One worker; 3 submissions at once then 1 a minute; at most 2 unfinished per key."""
    server = Server(tmp_path_factory.mktemp("limited"), workers=1, rate_burst=3,
                    rate_per_minute=1, max_queued_per_key=2, backends=mode_backends)
    server.start()
    yield server
    server.stop()


def test_cap_on_unfinished_submissions(limited: Server) -> None:
    with limited.client(limited.key("busy")) as client:
        first, second = submit(client, "slow"), submit(client, "slow")
        assert first.status_code == second.status_code == 202
        refused = submit(client, "echo")
        error = assert_error(refused, 429, "too_many_queued")
        assert int(refused.headers["retry-after"]) >= 1
        assert error["details"] == {"limit": 2}
        wait_final(client, first.json()["id"])
        wait_final(client, second.json()["id"])
        assert submit(client, "echo").status_code == 202


def test_rate_limit_is_a_token_bucket_per_key(limited: Server) -> None:
    with limited.client(limited.key("eager")) as client:
        for i in range(3):
            accepted = submit(client, "echo", headers={"Idempotency-Key": f"k{i}"})
            assert accepted.status_code == 202
            wait_final(client, accepted.json()["id"])
        refused = submit(client, "echo")
        error = assert_error(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert error["details"]["retry_after"] == int(refused.headers["retry-after"])
        retry = submit(client, "echo", headers={"Idempotency-Key": "k0"})
        assert retry.status_code == 202  # a retry is not a new submission
    with limited.client(limited.key("patient")) as other:
        assert submit(other, "echo").status_code == 202


def test_submit_cli_says_when_to_retry(limited: Server) -> None:
    token = limited.key("cli")
    echo = str(FIXTURE_EXERCISES / "echo" / "reference" / "echo.py")
    codes = [run_grader("submit", "echo", echo, "--server", limited.url, "--token", token)
             for _ in range(4)]
    assert [c.returncode for c in codes[:3]] == [0, 0, 0]
    assert codes[3].returncode == 2
    assert "429" in codes[3].stderr and "retry after" in codes[3].stderr
