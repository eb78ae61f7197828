"""HTTP problems found when the service ran for real (PostgreSQL, several processes), each with
its test; every test runs in both modes (``service_mode``): embedded and fleet."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.schemas import SubmissionPublic
from tests.api.conftest import Server, assert_error, submit, wait_final


@pytest.fixture(scope="module")
def token(fixture_server: Server) -> str:
    """A key on the shared fixture server."""
    return fixture_server.key("http")


@pytest.fixture
def client(fixture_server: Server, token: str) -> Iterator[httpx.Client]:
    """A client with the key."""
    with fixture_server.client(token) as http:
        yield http


def test_a_lone_surrogate_in_a_file_name_is_a_422_not_a_500(client: httpx.Client) -> None:
    body = b'{"exercise": "echo", "files": {"\\ud800.py": "x = 1\\n"}}'
    response = client.post("/v1/submissions", content=body,
                           headers={"Content-Type": "application/json"})
    error = assert_error(response, 422, "bad_file_name")
    assert error["details"][0]["name"] == "\ud800.py"  # sent back escaped, as JSON allows
    assert "surrogate" in error["details"][0]["problem"]
    assert response.content.isascii()
    assert client.get("/v1/exercises").status_code == 200  # the connection is still good


@pytest.mark.parametrize("path", ["/v1/submissions/abc%00def", "/v1/submissions/abc%00/events",
                                  "/v1/submissions?exercise=ec%00ho",
                                  "/v1/submissions/abc%00def?wait=1"])
def test_a_nul_in_a_path_or_query_is_a_422(client: httpx.Client, path: str) -> None:
    assert_error(client.get(path), 422, "invalid_request")


def test_a_nul_in_the_code_is_graded_with_its_line(client: httpx.Client) -> None:
    accepted = submit(client, "echo", {"echo.py": "def echo(v):\n    return v\x00\n"})
    assert accepted.status_code == 202, accepted.text
    report = wait_final(client, accepted.json()["id"])["report"]
    assert report["status"] == "error"
    assert report["message"] == "echo.py cannot be compiled: a NUL character at line 2"


def test_head_on_health_endpoints(fixture_server: Server) -> None:
    with fixture_server.client() as anonymous:
        for path in ("/healthz", "/readyz"):
            response = anonymous.head(path)
            assert response.status_code == 200 and response.content == b""


def test_405_lists_every_method_of_the_path(client: httpx.Client) -> None:
    response = client.delete("/v1/submissions")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
    assert client.put("/v1/submissions/x").headers["allow"] == "GET"


def test_an_unparsable_form_is_a_documented_422_not_a_400(client: httpx.Client,
                                                          fixture_server: Server) -> None:
    response = client.post("/v1/submissions/upload", content=b"--x\r\nnot a form",
                           headers={"Content-Type": "multipart/form-data; boundary=x"})
    error = assert_error(response, 422, "invalid_request")
    assert error["details"][0]["loc"] == ["body"]
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "400" not in operation["responses"], (method, path)


def test_the_event_stream_matches_its_openapi_schema(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    media = (schema["paths"]["/v1/submissions/{submission_id}/events"]["get"]["responses"]
             ["200"]["content"]["text/event-stream"])
    item = media["x-itemSchema"]
    data_ref = item["properties"]["data"]["contentSchema"]["$ref"]
    component = schema["components"]["schemas"][data_ref.rsplit("/", 1)[1]]
    accepted = submit(client, "slow").json()
    events: list[dict[str, str]] = []
    with client.stream("GET", f"/v1/submissions/{accepted['id']}/events") as stream:
        event: dict[str, str] = {}
        for line in stream.iter_lines():
            if not line:
                if event:
                    events.append(event)
                event = {}
            elif not line.startswith(":"):  # comments keep the stream alive
                field, _, value = line.partition(": ")
                event[field] = value
    assert len(events) >= 2
    for event in events:
        assert set(event) == set(item["properties"]) == set(item["required"])
        assert event["event"] == item["properties"]["event"]["const"]
        assert re.fullmatch(item["properties"]["id"]["pattern"], event["id"])
        data = json.loads(event["data"])
        assert set(component["required"]) <= set(data) <= set(component["properties"])
        SubmissionPublic.model_validate(data)
    assert json.loads(events[-1]["data"])["status"] == "completed"


def _open(port: int) -> socket.socket:
    """A TCP connection to the server."""
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed the connection (EOF or reset), waiting up to 1 s."""
    sock.settimeout(1)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
            # a 4xx answer may come first; the close must follow
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


@pytest.mark.slow
def test_idle_slow_and_stalled_connections_are_closed(tmp_path: Path) -> None:
    # The same uvicorn protocol serves both modes: one embedded server is enough.
    server = Server(tmp_path / "deadlines", header_timeout=2, body_timeout=2,
                    keepalive_timeout=2).start()
    try:
        idle = [_open(server.port) for _ in range(100)]
        slow = [_open(server.port) for _ in range(100)]
        stalled = [_open(server.port) for _ in range(100)]
        for sock in stalled:
            sock.sendall(b"POST /v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                         b"application/json\r\nContent-Length: 1000\r\n\r\n{\"exer")
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
        started = time.monotonic()
        while time.monotonic() - started < 4:  # slowloris: a header byte now and then
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.sendall(b"a")
            time.sleep(0.5)
        with server.client() as fresh:  # the server still serves
            assert fresh.get("/healthz").status_code == 200
        for name, socks in (("idle", idle), ("slowloris", slow), ("stalled body", stalled)):
            still_open = [s for s in socks if not _closed_by_server(s)]
            assert not still_open, f"{len(still_open)} {name} connections still open"
        for sock in idle + slow + stalled:
            sock.close()
        assert server.stop() in (0, -15)
    finally:
        server.kill()
