"""Submitting and following submissions: idempotency, long-poll, events, lists, the CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import (
    FIXTURE_EXERCISES,
    Server,
    assert_error,
    clean_env,
    free_port,
    reference,
    run_grader,
    submit,
    wait_final,
)


@pytest.fixture(scope="module")
def token(fixture_server: Server) -> str:
    """A key on the shared fixture server."""
    return fixture_server.key("submissions")


@pytest.fixture
def client(fixture_server: Server, token: str) -> Iterator[httpx.Client]:
    """A client with the key."""
    with fixture_server.client(token) as http:
        yield http


def test_submission_is_accepted_then_completed(client: httpx.Client) -> None:
    response = submit(client, "echo")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] in ("queued", "running") and body["report"] is None
    assert response.headers["location"] == f"/v1/submissions/{body['id']}"
    done = wait_final(client, body["id"])
    assert done["status"] == "completed" and done["attempts"] == 1
    assert done["report"]["score"] == done["report"]["max_score"] == 100
    assert done["report"]["mode"] == "direct"
    assert "GRADER-CANARY" not in json.dumps(done)


def test_upload_form_is_the_same_as_json(client: httpx.Client) -> None:
    name, text = reference("echo")
    response = client.post("/v1/submissions/upload", data={"exercise": "echo"},
                           files={"files": (name, text.encode())})
    assert response.status_code == 202, response.text
    assert wait_final(client, response.json()["id"])["report"]["status"] == "passed"


def test_idempotency_key_returns_the_same_submission(client: httpx.Client) -> None:
    headers = {"Idempotency-Key": "retry-me-1"}
    first, again = submit(client, "echo", headers=headers), submit(client, "echo", headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    ids = [s["id"] for s in client.get("/v1/submissions", params={"limit": 100}).json()["data"]]
    assert ids.count(first.json()["id"]) == 1
    conflict = submit(client, "echo", {"echo.py": "x = 2\n"}, headers=headers)
    assert_error(conflict, 409, "idempotency_conflict")
    wait_final(client, first.json()["id"])
    late = submit(client, "echo", headers=headers)
    assert late.json()["id"] == first.json()["id"] and late.json()["status"] == "completed"


def test_concurrent_retries_with_one_key_make_one_submission(client: httpx.Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    headers = {"Idempotency-Key": "race-1"}
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _i: submit(client, "echo", headers=headers), range(8)))
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1


def test_long_poll_returns_as_soon_as_grading_ends(client: httpx.Client) -> None:
    accepted = submit(client, "slow").json()
    start = time.monotonic()
    response = client.get(f"/v1/submissions/{accepted['id']}", params={"wait": 60})
    elapsed = time.monotonic() - start
    assert response.json()["status"] == "completed"
    assert elapsed < 30  # the server caps a wait at 30 s by default


def test_events_stream_progress_until_done(client: httpx.Client) -> None:
    accepted = submit(client, "slow").json()
    events: list[dict[str, object]] = []
    with client.stream("GET", f"/v1/submissions/{accepted['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                assert name == "status"
                events.append(json.loads(line.removeprefix("data: ")))
    statuses = [e["status"] for e in events]
    assert statuses[-1] == "completed" and "running" in statuses
    assert events[-1]["report"] is not None
    assert statuses.index("running") < statuses.index("completed")


def test_list_is_paginated_and_filtered(fixture_server: Server) -> None:
    with fixture_server.client(fixture_server.key("lister")) as client:
        ids = [submit(client, "echo").json()["id"] for _ in range(5)]
        ids.append(submit(client, "slow").json()["id"])
        for submission_id in ids:
            wait_final(client, submission_id)
        page1 = client.get("/v1/submissions", params={"limit": 4}).json()
        page2 = client.get("/v1/submissions", params={"limit": 4, "offset": 4}).json()
        assert page1["count"] == page2["count"] == 6
        listed = [s["id"] for s in page1["data"] + page2["data"]]
        assert listed == list(reversed(ids))  # newest first, nothing twice
        echo = client.get("/v1/submissions", params={"exercise": "echo"}).json()
        assert echo["count"] == 5 and {s["exercise"] for s in echo["data"]} == {"echo"}
        summary = echo["data"][0]
        assert summary["result"] == "passed" and summary["score"] == 100
        assert client.get("/v1/submissions", params={"status": "queued"}).json()["count"] == 0


def test_health_ready_metrics_and_docs(fixture_server: Server) -> None:
    with fixture_server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and ready["checks"]["sweeper"] == "ok"
        if fixture_server.fleet:
            assert ready["checks"]["broker"] == ready["checks"]["redis"] == "ok"
            assert ready["checks"]["workers"] == "none here (fleet API node)"
        else:
            assert ready["checks"]["workers"] == "2/2 alive"
        metrics = client.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        for name in ("grader_queue_depth", "grader_gradings_total{status=\"completed\"}",
                     "grader_grading_duration_seconds_bucket{le=\"+Inf\"}",
                     "grader_grading_duration_seconds_count"):
            assert name in metrics.text
        schema = client.get("/openapi.json").json()
        assert "/v1/submissions" in schema["paths"] and "/v1/exercises/{slug}" in schema["paths"]
        assert client.get("/docs").status_code == 200


# --- grader submit --------------------------------------------------------------------------

def _submit_cli(server: Server, token: str | None, *args: str,
                env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``grader submit`` against ``server``; (exit code, stdout, stderr)."""
    extra = ["--server", server.url] if server else []
    extra += ["--token", token] if token else []
    done = run_grader("submit", *args, *extra, env=env)
    return done.returncode, done.stdout, done.stderr


def test_submit_cli_prints_the_report_and_exits_like_grade(fixture_server: Server,
                                                           token: str) -> None:
    passing = FIXTURE_EXERCISES / "echo" / "reference"
    code, out, _err = _submit_cli(fixture_server, token, "echo", str(passing))
    local = run_grader("grade", "echo", str(passing), "--sandbox", "none",
                       "--exercises", str(FIXTURE_EXERCISES))
    assert code == local.returncode == 0
    first, rest = out.split("\n", 1)
    assert first.startswith("echo: passed  score 100/100 (100.0%)")
    assert rest == local.stdout.split("\n", 1)[1]
    stub = FIXTURE_EXERCISES / "echo" / "stub" / "echo.py"
    code, out, _err = _submit_cli(fixture_server, token, "echo", str(stub))
    assert code == 1 and "echo: failed" in out


def test_submit_cli_reads_server_and_token_from_the_environment(fixture_server: Server,
                                                                token: str) -> None:
    env = clean_env(GRADER_URL=fixture_server.url, GRADER_TOKEN=token)
    done = run_grader("submit", "echo", str(FIXTURE_EXERCISES / "echo" / "reference"),
                      "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "passed"


def _one_line_error(stderr: str) -> str:
    """The single error line ``grader submit`` printed."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_submit_cli_errors_are_one_line_with_exit_2(fixture_server: Server, token: str,
                                                    tmp_path: Path) -> None:
    echo = str(FIXTURE_EXERCISES / "echo" / "reference" / "echo.py")
    code, _out, err = _submit_cli(fixture_server, "gk_wrong", "echo", echo)
    assert code == 2 and "401" in _one_line_error(err)
    code, _out, err = _submit_cli(fixture_server, token, "nope", echo)
    assert code == 2 and "404" in _one_line_error(err) and "nope" in err
    wrong_name = tmp_path / "conftest.py"
    wrong_name.write_text("x = 1\n")
    code, _out, err = _submit_cli(fixture_server, token, "echo", str(wrong_name))
    assert code == 2 and "422" in _one_line_error(err) and "conftest.py" in err
    big = tmp_path / "echo.py"
    big.write_text("#" * 100_000)
    code, _out, err = _submit_cli(fixture_server, token, "echo", str(big))
    assert code == 2 and "413" in _one_line_error(err)
    done = run_grader("submit", "echo", echo, "--server", f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 2 and "connection refused" in _one_line_error(done.stderr)
    code, _out, err = _submit_cli(fixture_server, token, "echo", str(tmp_path / "missing"))
    assert code == 2 and "no such file" in _one_line_error(err)
