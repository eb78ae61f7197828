"""The Docker Engine API client the harness child uses for warm containers, against a fake
daemon on a Unix socket; and the errors it raises, as the rest of the sandbox sees them."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.docker_channel import STDERR, STDOUT, frames_iter_no_tty
from sandbox.docker_errors import translate_docker_error
from sandbox.docker_lite import EngineAPIError, LiteDockerAPI
from sandbox.errors import DaemonUnavailable, ImageMissing, SandboxError

Answer = Callable[[str], bytes]


def _http(status: str, body: object = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    kind = b"Content-Type: application/json\r\n" if body is not None else b""
    return (
        f"HTTP/1.1 {status}\r\n".encode()
        + kind
        + f"Content-Length: {len(data)}\r\n\r\n".encode()
        + data
    )


@pytest.fixture
def payloads() -> list[tuple[dict[str, str], bytes]]:
    """What the fake daemon got with each request: its headers (names in lower case) and the
    body, read as ``Content-Length`` says (an answer may look at the newest one)."""
    return []


@pytest.fixture
def daemon(
    tmp_path: Path, payloads: list[tuple[dict[str, str], bytes]]
) -> Iterator[tuple[str, list[str], dict[str, Answer]]]:
    """A fake daemon: the socket path, the request lines it got, and answers by path prefix."""
    path = str(tmp_path / "docker.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    seen: list[str] = []
    answers: dict[str, Answer] = {}

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            head, _, body = head.partition(b"\r\n\r\n")
            line, *fields = head.decode().split("\r\n")
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)
            }
            while len(body) < int(headers.get("content-length", 0)):
                body += conn.recv(65536)
            payloads.append((headers, body))
            seen.append(line)
            method_path = line.rsplit(" ", 1)[0]
            for prefix, answer in answers.items():
                if method_path.startswith(prefix):
                    conn.sendall(answer(line))
                    break
            else:
                conn.sendall(_http("404 Not Found", {"message": "page not found"}))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield path, seen, answers
    server.close()


def test_calls_go_to_the_engine_api_paths(daemon: tuple[str, list[str], dict[str, Answer]]) -> None:
    path, seen, answers = daemon
    answers["GET /_ping"] = lambda _: _http("200 OK")
    answers["GET /containers/abc/json"] = lambda _: _http("200 OK", {"State": {"ExitCode": 3}})
    answers["POST /containers/abc/wait"] = lambda _: _http("200 OK", {"StatusCode": 3})
    answers["GET /containers/json"] = lambda _: _http("200 OK", [{"Id": "abc"}])
    answers["DELETE /containers/abc"] = lambda _: _http("204 No Content")
    api = LiteDockerAPI(path, timeout=5)
    assert api.ping() is True
    assert api.inspect_container("abc")["State"]["ExitCode"] == 3
    assert api.wait("abc", timeout=5) == {"StatusCode": 3}
    assert api.containers(all=True, filters={"label": "a=b"}) == [{"Id": "abc"}]
    api.remove_container("abc", v=True, force=True)
    query = parse_qs(urlsplit(seen[3].split(" ")[1]).query)
    assert query["all"] == ["1"] and json.loads(query["filters"][0]) == {"label": ["a=b"]}
    assert seen[4].startswith("DELETE /containers/abc?v=1&force=1 ")


def test_an_error_status_is_an_engine_api_error_with_the_daemons_message(
    daemon: tuple[str, list[str], dict[str, Answer]],
) -> None:
    path, _, answers = daemon
    answers["GET /images/"] = lambda _: _http("404 Not Found", {"message": "No such image: x:1"})
    api = LiteDockerAPI(path, timeout=5)
    with pytest.raises(EngineAPIError) as caught:
        api.inspect_image("x:1")
    assert caught.value.status_code == 404 and "No such image" in caught.value.explanation
    assert isinstance(translate_docker_error(caught.value, image="x:1"), ImageMissing)
    other = translate_docker_error(EngineAPIError(500, "boom"))
    assert type(other) is SandboxError and "boom" in str(other)


def test_no_daemon_is_an_unreachable_daemon(tmp_path: Path) -> None:
    api = LiteDockerAPI(str(tmp_path / "nothing.sock"), timeout=5)
    with pytest.raises(OSError) as caught:
        api.ping()
    assert isinstance(translate_docker_error(caught.value), DaemonUnavailable)


def test_attach_keeps_the_stream_that_follows_the_answer(
    daemon: tuple[str, list[str], dict[str, Answer]],
) -> None:
    """The daemon may send output right behind its ``101`` answer, in the same packet: none of
    it may be eaten with the headers."""
    path, seen, answers = daemon
    frame = struct.pack(">BxxxL", STDOUT, 5) + b"hello" + struct.pack(">BxxxL", STDERR, 3)
    answers["POST /containers/abc/attach"] = lambda _: (
        b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n" + frame + b"err"
    )
    sock = LiteDockerAPI(path, timeout=5).attach_socket("abc", {"stdin": 1, "stream": 1})
    assert list(frames_iter_no_tty(sock)) == [(STDOUT, b"hello"), (STDERR, b"err")]
    assert seen == ["POST /containers/abc/attach?stdin=1&stream=1 HTTP/1.1"]
    sock.close()


def test_a_refused_attach_raises(daemon: tuple[str, list[str], dict[str, Answer]]) -> None:
    path, _, answers = daemon
    answers["POST /containers/gone/attach"] = lambda _: _http("404 Not Found", {"message": "x"})
    with pytest.raises(EngineAPIError):
        LiteDockerAPI(path, timeout=5).attach_socket("gone", {"stream": 1})


def test_answers_sized_every_way_the_daemon_sizes_them_are_read_whole(
    daemon: tuple[str, list[str], dict[str, Answer]],
) -> None:
    """The daemon sends a large JSON body chunked (a container's inspection), some bodies
    until it closes the connection, and 204 with no body at all."""
    path, _, answers = daemon
    state = {"State": {"ExitCode": 0, "Error": "x" * 5000}, "Name": "/é"}
    body = json.dumps(state).encode()
    chunks = b"".join(
        f"{len(body[i : i + 1000]):x};ext=1\r\n".encode() + body[i : i + 1000] + b"\r\n"
        for i in range(0, len(body), 1000)
    )
    answers["GET /containers/big/json"] = lambda _: (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    answers["POST /containers/abc/wait"] = lambda _: (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n" + b'{"StatusCode": 137}'
    )
    answers["POST /containers/abc/kill"] = lambda _: b"HTTP/1.1 204 No Content\r\n\r\n"
    api = LiteDockerAPI(path, timeout=5)
    assert api.inspect_container("big") == state
    assert api.wait("abc", timeout=5) == {"StatusCode": 137}
    assert api.kill("abc") is None


def test_an_answer_cut_short_is_a_connection_error(
    daemon: tuple[str, list[str], dict[str, Answer]],
) -> None:
    path, _, answers = daemon
    answers["GET /containers/cut/json"] = lambda _: (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}"
    )
    answers["GET /containers/bad/json"] = lambda _: (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}"
    )
    api = LiteDockerAPI(path, timeout=5)
    with pytest.raises(ConnectionError, match="ended early"):
        api.inspect_container("cut")
    with pytest.raises(ConnectionError, match="malformed"):
        api.inspect_container("bad")
    assert isinstance(translate_docker_error(ConnectionError("x")), DaemonUnavailable)


def test_the_client_does_not_import_http_client() -> None:
    """``http.client`` (with ``email`` and ``ssl``) cost 10-20 ms of every grading's start in
    the harness child; the child's Docker client must not bring it back."""
    code = "import sys, sandbox.docker_lite; print(sorted({'http.client', 'ssl', 'email'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
