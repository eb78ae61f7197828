"""A small Docker Engine API client over the local Unix socket, for runs in warm containers.

Every grading starts a harness child, and the child drives the containers of its run: it
attaches to them, waits for them, inspects, kills, and creates one when the warm pool had
none ready (the body built by :mod:`sandbox.docker_container`). Importing the Docker SDK
(``requests``, ``urllib3`` and the rest) would cost about 0.15 s before the first test can
start, on every grading. :class:`LiteDockerAPI` makes those calls itself and hands anything else
to the SDK, imported on first use.

It speaks the little HTTP/1.1 those calls need over a socket itself (one connection per
request, closed after it; bodies sized by ``Content-Length``, chunked, or up to the close):
``http.client`` brings ``email`` and ``ssl`` with it, 10-20 ms of every grading's start.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import quote, urlencode


class EngineAPIError(Exception):
    """The daemon answered a request with an error status."""

    def __init__(self, status_code: int, explanation: str) -> None:
        super().__init__(f"{status_code}: {explanation}")
        self.status_code, self.explanation = status_code, explanation


def local_socket_path(docker_host: str | None) -> str | None:
    """The daemon's Unix socket for a ``DOCKER_HOST`` value (``None`` or empty: the default
    socket), as the SDK's ``from_env`` would find it; ``None`` for another kind of endpoint
    (TCP, SSH: left to the SDK)."""
    host = docker_host or ""
    if not host:
        return "/var/run/docker.sock"
    return host.removeprefix("unix://") if host.startswith("unix://") else None


class LiteDockerAPI:
    """The calls a run makes on a started container, spelled like ``docker.APIClient``'s.

    Each request has a connection of its own, so threads (a run's exit watcher, the harness)
    may call at the same time. Other attributes come from a ``docker.APIClient`` made on first
    use.
    """

    #: What the SDK's client says for a local socket (``socket_channel_wanted`` reads it).
    base_url = "http+docker://localhost"

    def __init__(self, socket_path: str, timeout: float = 60.0) -> None:
        self.socket_path, self.timeout = socket_path, timeout
        self._sdk_client: Any = None

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
        payload: Any = None,
    ) -> Any:
        """One request (``payload`` sent as JSON); the decoded JSON answer (or ``None``)."""
        url = path + (f"?{urlencode(params)}" if params else "")
        data = b"" if payload is None else json.dumps(payload).encode("ascii")
        kind = "" if payload is None else "Content-Type: application/json\r\n"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout if timeout is not None else self.timeout)
            sock.connect(self.socket_path)
            sock.sendall(
                f"{method} {url} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                f"{kind}Content-Length: {len(data)}\r\n\r\n".encode("ascii")
                + data
            )
            status, headers, body = _read_response(sock)
        finally:
            sock.close()
        if status >= 400:
            raise EngineAPIError(status, _explanation(body))
        is_json = headers.get("content-type", "").startswith("application/json")
        return json.loads(body) if body and is_json else None

    def ping(self) -> bool:
        self._request("GET", "/_ping")
        return True

    def info(self) -> dict[str, Any]:
        return dict(self._request("GET", "/info"))

    def inspect_image(self, image: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/images/{quote(image, safe='')}/json"))

    def inspect_container(self, container: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/containers/{quote(container)}/json"))

    def containers(
        self,
        all: bool = False,
        filters: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"all": int(all)}
        if filters:
            params["filters"] = json.dumps(
                {k: v if isinstance(v, list) else [v] for k, v in filters.items()}
            )
        return list(self._request("GET", "/containers/json", params))

    def create_container_from_config(
        self, config: dict[str, Any], name: str | None = None
    ) -> dict[str, Any]:
        """Create a container from an Engine API body; the answer has its ``Id``."""
        body = {k: v for k, v in config.items() if v is not None}  # as the SDK leaves them out
        params = {"name": name} if name else None
        return dict(self._request("POST", "/containers/create", params, payload=body))

    def start(self, container: str) -> None:
        self._request("POST", f"/containers/{quote(container)}/start")

    def kill(self, container: str) -> None:
        self._request("POST", f"/containers/{quote(container)}/kill")

    def wait(self, container: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until the container stops (``TimeoutError`` after ``timeout`` seconds)."""
        return dict(self._request("POST", f"/containers/{quote(container)}/wait", None, timeout))

    def remove_container(self, container: str, v: bool = False, force: bool = False) -> None:
        params = {"v": int(v), "force": int(force)}
        self._request("DELETE", f"/containers/{quote(container)}", params)

    def attach_socket(self, container: str, params: dict[str, Any]) -> socket.socket:
        """The container's attach stream: the socket left once the daemon hijacked the
        connection (the same stream ``docker.APIClient.attach_socket`` wraps)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.socket_path)
            sock.sendall(
                f"POST /containers/{quote(container)}/attach?{urlencode(params)} HTTP/1.1\r\n"
                "Host: localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                "Content-Length: 0\r\n\r\n".encode("ascii")
            )
            head = _read_head(sock)
            status, _ = _parse_head(head)
            if status not in (101, 200):
                raise EngineAPIError(status, f"attach refused: {head[:200]!r}")
        except BaseException:
            sock.close()
            raise
        return sock

    def _sdk(self) -> Any:
        """A ``docker.APIClient`` on the same socket (imports the SDK, once)."""
        if self._sdk_client is None:
            import docker

            self._sdk_client = docker.APIClient(
                base_url=f"unix://{self.socket_path}", version="auto", timeout=int(self.timeout)
            )
        return self._sdk_client

    def __getattr__(self, name: str) -> Any:
        """Everything this client does not make itself (e.g. ``create_host_config``)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._sdk(), name)


def _read_head(sock: socket.socket) -> bytes:
    """The response's status line and headers, consuming nothing of the stream after them."""
    head = b""
    while True:
        peeked = sock.recv(4096, socket.MSG_PEEK)
        if not peeked:
            raise ConnectionError("the daemon closed the connection before answering")
        end = (head + peeked).find(b"\r\n\r\n")
        if end >= 0:
            head += sock.recv(end + 4 - len(head))
            return head
        head += sock.recv(len(peeked))
        if len(head) > 65536:
            raise ConnectionError("the daemon's answer has no end of headers")


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (names in lower case) and body of the answer on a connection the
    daemon closes after it."""
    status, headers = _parse_head(_read_head(sock))
    if status in (204, 304) or 100 <= status < 200:
        return status, headers, b""
    length = headers.get("content-length")
    if length is not None:
        return status, headers, _read_exact(sock, int(length))
    rest = _read_to_end(sock)
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    return status, headers, _dechunk(rest) if chunked else rest


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """The status and the headers (names in lower case) of an answer's head."""
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return int(lines[0].split(" ", 2)[1]), headers


def _read_exact(sock: socket.socket, length: int) -> bytes:
    """The next ``length`` bytes on ``sock``."""
    parts, have = [], 0
    while have < length:
        chunk = sock.recv(min(65536, length - have))
        if not chunk:
            raise ConnectionError("the daemon's answer ended early")
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts)


def _read_to_end(sock: socket.socket) -> bytes:
    """Everything on ``sock`` until the daemon closes the connection."""
    parts = []
    while chunk := sock.recv(65536):
        parts.append(chunk)
    return b"".join(parts)


def _dechunk(data: bytes) -> bytes:
    """The body of a chunked answer read whole."""
    body: list[bytes] = []
    at = 0
    try:
        while True:
            line_end = data.index(b"\r\n", at)
            size = int(data[at:line_end].split(b";", 1)[0], 16)
            if size == 0:
                return b"".join(body)
            start = line_end + 2
            body.append(data[start : start + size])
            at = start + size + 2
    except ValueError:
        raise ConnectionError("the daemon's chunked answer is malformed") from None


def _explanation(body: bytes) -> str:
    """The daemon's ``message`` from an error body (or the body's start)."""
    try:
        return str(json.loads(body).get("message", ""))[:500]
    except (ValueError, AttributeError):
        return body[:500].decode("utf-8", "replace")
