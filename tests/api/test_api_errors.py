"""Bad input and error answers: one JSON shape for all, each problem named."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import Server, assert_error, reference, submit, wait_final


@pytest.fixture(scope="module")
def token(fixture_server: Server) -> str:
    """A key on the shared fixture server."""
    return fixture_server.key("errors")


@pytest.fixture
def client(fixture_server: Server, token: str) -> Iterator[httpx.Client]:
    """A client with the key."""
    with fixture_server.client(token) as http:
        yield http


def test_unknown_path_and_wrong_method_use_the_error_shape(client: httpx.Client) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    error = client.delete("/v1/submissions")
    assert_error(error, 405, "method_not_allowed")
    assert error.headers["allow"]


def test_missing_and_unknown_tokens_are_401(fixture_server: Server) -> None:
    with fixture_server.client() as anonymous:
        response = anonymous.get("/v1/exercises")
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
        assert_error(submit(anonymous, "echo"), 401, "unauthorized")
    with fixture_server.client("gk_not-a-real-token") as stranger:
        assert_error(stranger.get("/v1/submissions"), 401, "unauthorized")
    basic_auth = {"Authorization": "Basic eDp5"}
    with httpx.Client(base_url=fixture_server.url, headers=basic_auth) as basic:
        assert_error(basic.get("/v1/submissions"), 401, "unauthorized")


def test_unknown_exercise_is_404(client: httpx.Client) -> None:
    error = assert_error(submit(client, "no-such-exercise", {"x.py": "x = 1\n"}), 404,
                         "exercise_not_found")
    assert "no-such-exercise" in error["message"]
    upload = client.post("/v1/submissions/upload", data={"exercise": "no-such-exercise"},
                         files={"files": ("x.py", b"x = 1\n")})
    assert_error(upload, 404, "exercise_not_found")
    assert_error(client.get("/v1/exercises/no-such-exercise"), 404, "exercise_not_found")


@pytest.mark.parametrize("name", [
    "../echo.py", "sub/echo.py", "/etc/echo.py", "..\\echo.py", "..", ".echo.py", ".hidden",
    "conftest.py", "pytest.ini", "sitecustomize.py", "usercustomize.py", "pyproject.toml",
    "__init__.py", "other.py", "echo.txt", "ECHO.py", "", "echo.py\n",
])
def test_file_names_other_than_the_module_are_422(client: httpx.Client, name: str) -> None:
    error = assert_error(submit(client, "echo", {name: "x = 1\n"}), 422, "bad_file_name")
    assert repr(name) in error["message"]
    assert error["details"][0]["name"] == name


def test_every_bad_name_is_listed_next_to_the_module(client: httpx.Client) -> None:
    files = {"echo.py": reference("echo")[1], "conftest.py": "", "helper.py": ""}
    error = assert_error(submit(client, "echo", files), 422, "bad_file_name")
    assert sorted(d["name"] for d in error["details"]) == ["conftest.py", "helper.py"]


def test_bad_names_in_an_upload_are_422(client: httpx.Client) -> None:
    response = client.post("/v1/submissions/upload", data={"exercise": "echo"},
                           files={"files": ("conftest.py", b"import os\n")})
    assert_error(response, 422, "bad_file_name")
    twice = client.post("/v1/submissions/upload", data={"exercise": "echo"},
                        files=[("files", ("echo.py", b"x = 1\n")),
                               ("files", ("echo.py", b"x = 2\n"))])
    assert_error(twice, 422, "duplicate_file")


def test_too_many_files_is_422(client: httpx.Client) -> None:
    files = {f"f{i}.py": "" for i in range(40)}
    error = assert_error(submit(client, "echo", files), 422, "too_many_files")
    assert "40" in error["message"]


def test_no_files_is_422(client: httpx.Client) -> None:
    assert_error(submit(client, "echo", {}), 422, "missing_module")


def test_non_utf8_text_is_422(client: httpx.Client) -> None:
    upload = client.post("/v1/submissions/upload", data={"exercise": "echo"},
                         files={"files": ("echo.py", b"def echo(x):\n    return '\xff'\n")})
    error = assert_error(upload, 422, "not_utf8")
    assert "echo.py" in error["message"]
    surrogate = client.post("/v1/submissions", content=b'{"exercise": "echo", "files": '
                            b'{"echo.py": "x = \\"\\ud800\\"\\n"}}',
                            headers={"Content-Type": "application/json"})
    assert_error(surrogate, 422, "not_utf8")


@pytest.mark.parametrize("body", [
    b'{"exercise": "echo"}',
    b'{"files": {"echo.py": ""}}',
    b'{"exercise": "echo", "files": ["echo.py"]}',
    b'{"exercise": "echo", "files": {"echo.py": 3}}',
    b'{"exercise": "Echo!", "files": {"echo.py": ""}}',
    b'{"exercise": "echo", "files": {}, "extra": 1}',
    b'{"exercise": "echo", "files": {',
    b"[]",
    b"",
])
def test_malformed_requests_are_422_in_the_same_shape(client: httpx.Client, body: bytes) -> None:
    response = client.post("/v1/submissions", content=body,
                           headers={"Content-Type": "application/json"})
    error = assert_error(response, 422, "invalid_request")
    assert isinstance(error["details"], list) and error["details"]
    assert "input" not in error["details"][0]


def test_query_parameters_are_validated(client: httpx.Client) -> None:
    assert_error(client.get("/v1/submissions", params={"limit": 0}), 422, "invalid_request")
    assert_error(client.get("/v1/submissions", params={"status": "done"}), 422)
    response = submit(client, "echo")
    assert_error(client.get(f"/v1/submissions/{response.json()['id']}",
                            params={"wait": 100000}), 422)


def test_body_over_the_limit_is_413(client: httpx.Client) -> None:
    big = submit(client, "echo", {"echo.py": "x" * 70_000})
    error = assert_error(big, 413, "body_too_large")
    assert error["details"] == {"limit": 65536}


def test_chunked_body_over_the_limit_is_413(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"exercise": "echo", "files": {"echo.py": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}}'

    response = client.post("/v1/submissions", content=chunks(),
                           headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "body_too_large")


def test_upload_over_the_limit_is_413(client: httpx.Client) -> None:
    response = client.post("/v1/submissions/upload", data={"exercise": "echo"},
                           files={"files": ("echo.py", b"#" * 200_000)})
    assert_error(response, 413, "body_too_large")


def test_unknown_submission_is_404(client: httpx.Client) -> None:
    assert_error(client.get("/v1/submissions/00000000-0000-0000-0000-000000000000"), 404,
                 "submission_not_found")
    assert_error(client.get("/v1/submissions/nope/events"), 404, "submission_not_found")


def test_code_problems_are_graded_not_refused(client: httpx.Client) -> None:
    syntax = submit(client, "echo", {"echo.py": "def echo(:\n"})
    empty = submit(client, "echo", {"echo.py": "  \n"})
    failing = submit(client, "echo", {"echo.py": "def echo(v):\n    return v\n"})
    for response in (syntax, empty, failing):
        assert response.status_code == 202, response.text
    syntax_done = wait_final(client, syntax.json()["id"])
    assert syntax_done["status"] == "completed"
    assert syntax_done["report"]["status"] == "error"
    assert "syntax error" in syntax_done["report"]["message"]
    assert wait_final(client, empty.json()["id"])["report"]["message"] == "echo.py is empty"
    failed = wait_final(client, failing.json()["id"])["report"]
    assert failed["status"] == "failed" and 0 < failed["score"] < failed["max_score"]


def test_a_grader_fault_is_an_error_status_and_the_worker_survives(
        client: httpx.Client) -> None:
    broken = submit(client, "broken")
    assert broken.status_code == 202
    done = wait_final(client, broken.json()["id"])
    assert done["status"] == "error" and done["report"] is None
    assert done["error"].startswith("grader fault:") and "undeclared" in done["error"]
    assert "GRADER-CANARY" not in done["error"]
    after = submit(client, "echo")
    assert wait_final(client, after.json()["id"])["report"]["status"] == "passed"
