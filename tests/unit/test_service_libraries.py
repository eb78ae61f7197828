"""The service's use of maintained libraries: Prometheus metrics (prometheus_client), event
streams (sse-starlette, httpx-sse), client retries honouring Retry-After, the Docker SDK's
attach demultiplexer, and the API docs served with local assets."""

from __future__ import annotations

import asyncio
import json
import math
import re
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Message

import api.sse
import sandbox.docker_channel
from api.client import RETRIES, Client, ClientError, retry_after
from api.main import create_app
from api.metrics import Metrics
from api.models import Status
from api.notify import Notifier
from api.schemas import SubmissionPublic
from api.settings import Settings
from sandbox.bootstrap import READY
from sandbox.channel import OutputBuffer
from sandbox.docker_channel import AttachChannel, raw_socket

# --- metrics ----------------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of Prometheus text, by (name, sorted labels), parsed by the library."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_are_library_series_in_a_registry_per_service() -> None:
    first, second = Metrics(), Metrics()
    assert isinstance(first.registry, CollectorRegistry)
    assert first.registry is not second.registry
    first.accepted()
    first.rejected("rate_limited")
    first.graded("completed", "passed", 0.7)
    first.graded("error", "", 400.0)
    got = samples(first.render(queue_depth=3, running=1, workers=2))
    assert got[("grader_queue_depth", ())] == 3
    assert got[("grader_gradings_running", ())] == 1
    assert got[("grader_workers", ())] == 2
    assert got[("grader_submissions_accepted_total", ())] == 1
    assert got[("grader_submissions_rejected_total", (("reason", "rate_limited"),))] == 1
    assert got[("grader_gradings_total", (("status", "completed"),))] == 1
    assert got[("grader_gradings_total", (("status", "error"),))] == 1
    assert got[("grader_grading_results_total", (("result", "passed"),))] == 1
    bucket = "grader_grading_duration_seconds_bucket"
    assert got[(bucket, (("le", "0.5"),))] == 0
    assert got[(bucket, (("le", "1.0"),))] == 1
    assert got[(bucket, (("le", "300.0"),))] == 1
    assert got[(bucket, (("le", "+Inf"),))] == 2
    assert got[("grader_grading_duration_seconds_count", ())] == 2
    other = samples(second.render(queue_depth=0, running=0, workers=0))
    assert other[("grader_submissions_accepted_total", ())] == 0  # nothing shared
    assert other[("grader_gradings_total", (("status", "completed"),))] == 0


def test_registered_gauge_is_read_at_each_scrape() -> None:
    metrics = Metrics()
    idle = [2]
    metrics.register_gauge("grader_pool_idle_containers", "Warm containers.", lambda: idle[0])
    assert samples(metrics.render(0, 0, 1))[("grader_pool_idle_containers", ())] == 2
    idle[0] = 5
    assert samples(metrics.render(0, 0, 1))[("grader_pool_idle_containers", ())] == 5
    with pytest.raises(ValueError):
        metrics.register_gauge("grader_pool_idle_containers", "Again.", lambda: 0)


def test_a_failing_gauge_reads_nan_and_the_scrape_still_works() -> None:
    metrics = Metrics()

    def broken() -> float:
        raise RuntimeError("pool is gone")

    metrics.register_gauge("grader_pool_size", "Containers in the pool.", broken)
    got = samples(metrics.render(queue_depth=4, running=0, workers=1))
    assert math.isnan(got[("grader_pool_size", ())])
    assert got[("grader_queue_depth", ())] == 4


# --- server-sent events: the server side ------------------------------------------------------


def view(status: Status, position: int | None = None) -> SubmissionPublic:
    """A submission as the stream shows it."""
    return SubmissionPublic(
        id="s1",
        exercise="echo",
        status=status,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        attempts=0,
        queue_position=position,
    )


class CountingNotifier(Notifier):
    """A notifier that counts live subscriptions."""

    def __init__(self) -> None:
        super().__init__()
        self.active = 0

    @contextmanager
    def subscribe(self, submission_id: str) -> Iterator[asyncio.Event]:
        self.active += 1
        try:
            with super().subscribe(submission_id) as event:
                yield event
        finally:
            self.active -= 1


async def serve_events(
    events: AsyncIterator[Any], ping: float, until: Callable[[list[bytes]], bool]
) -> list[bytes]:
    """Run the event-source response as an ASGI server would; the client disconnects once
    ``until(bodies)`` holds (never, if the stream ends first). The body chunks sent."""
    bodies: list[bytes] = []
    hang_up = asyncio.Event()

    async def receive() -> Message:
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200
            headers = dict(message["headers"])
            assert headers[b"content-type"].startswith(b"text/event-stream")
        else:
            bodies.append(message.get("body", b""))
            if until(bodies):
                hang_up.set()

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    response = api.sse.event_source(events, ping=ping)
    await asyncio.wait_for(response(scope, receive, send), timeout=10)
    return bodies


def test_events_keep_their_names_ids_and_payloads_and_end_when_final(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(api.sse, "RECHECK", 0.01)
    later = [
        view(Status.QUEUED, 1),
        view(Status.QUEUED, 1),  # unchanged: no event
        view(Status.RUNNING),
        view(Status.COMPLETED),
    ]
    notifier = CountingNotifier()

    async def reload() -> SubmissionPublic:
        return later.pop(0)

    async def scenario() -> list[bytes]:
        notifier.bind(asyncio.get_running_loop())
        events = api.sse.status_events(notifier, view(Status.QUEUED, 2), reload)
        return await serve_events(events, ping=60, until=lambda _b: False)

    bodies = asyncio.run(scenario())
    shown = [
        view(Status.QUEUED, 2),
        view(Status.QUEUED, 1),
        view(Status.RUNNING),
        view(Status.COMPLETED),
    ]
    expected = b"".join(
        b"id: %d\nevent: status\ndata: %s\n\n" % (n, v.model_dump_json().encode())
        for n, v in enumerate(shown, 1)
    )
    assert b"".join(bodies) == expected
    assert bodies[-1] == b""  # the response was ended properly
    assert notifier.active == 0 and later == []


def test_idle_stream_gets_keepalives_and_a_disconnect_ends_it() -> None:
    notifier = CountingNotifier()
    reloads = 0

    async def reload() -> SubmissionPublic:
        nonlocal reloads
        reloads += 1
        return view(Status.QUEUED, 1)

    def enough(bodies: list[bytes]) -> bool:
        return bodies.count(b": keep-alive\n\n") >= 2

    async def scenario() -> list[bytes]:
        notifier.bind(asyncio.get_running_loop())
        events = api.sse.status_events(notifier, view(Status.QUEUED, 1), reload)
        bodies = await serve_events(events, ping=0.05, until=enough)
        assert notifier.active == 0  # the generator was closed: its subscription is gone
        return bodies

    started = time.monotonic()
    bodies = asyncio.run(scenario())
    assert time.monotonic() - started < 5
    assert bodies[0].startswith(b"id: 1\nevent: status\ndata: ")
    assert bodies.count(b": keep-alive\n\n") >= 2
    assert not [b for b in bodies[1:] if b.startswith(b"id:")]  # nothing changed


# --- server-sent events and retries: the client side ------------------------------------------


def accepted_json() -> dict[str, Any]:
    """A submission as the server accepts it."""
    return json.loads(view(Status.QUEUED, 1).model_dump_json())  # type: ignore[no-any-return]


def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[Client, list[float]]:
    """A client on ``handler`` whose sleeps are recorded, not slept."""
    slept: list[float] = []
    client = Client(
        "http://grader.test", "gk_x", transport=httpx.MockTransport(handler), sleep=slept.append
    )
    return client, slept


def test_client_parses_events_by_the_sse_rules() -> None:
    stream = (
        b": keep-alive\r\n\r\n"
        b"event: status\r\nid: 1\r\n"
        b'data:{"id": "s1", "status": "queued",\r\n'  # no space after the colon; two lines
        b'data: "queue_position": 2}\r\n\r\n'
        b'event: other\r\ndata: {"status": "completed"}\r\n\r\n'  # not a status event
        b'event: status\r\nid: 2\r\ndata: {"id": "s1", "status": "completed", "report": {}}'
        b"\r\n\r\n"
    )
    polled: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            assert request.headers["accept"] == "text/event-stream"
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=stream
            )
        polled.append(str(request.url))
        return httpx.Response(500)

    client, _slept = mock_client(handler)
    seen: list[dict[str, Any]] = []
    with client:
        done = client.follow("s1", timeout=30, progress=seen.append)
    assert done["status"] == "completed"
    assert seen == [{"id": "s1", "status": "queued", "queue_position": 2}, done]
    assert polled == []  # the stream was enough


class QuietStream(BaseHTTPRequestHandler):
    """Events: one ``queued`` status, then only keep-alive comments for up to 20 s."""

    stop = threading.Event()

    def do_GET(self) -> None:
        queued = json.dumps({"id": "s1", "exercise": "echo", "status": "queued"}).encode()
        if not self.path.startswith("/v1/submissions/s1/events"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(queued)))
            self.end_headers()
            self.wfile.write(queued)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        # No id: keep-alive comments after this event are not events at all (SSE rules).
        self.wfile.write(b"event: status\ndata: " + queued + b"\n\n")
        deadline = time.monotonic() + 20
        try:
            while time.monotonic() < deadline and not self.stop.is_set():
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass  # the client hung up

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def quiet_server() -> Iterator[str]:
    """A local server whose event stream never ends on its own."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), QuietStream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    QuietStream.stop.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    QuietStream.stop.set()
    server.shutdown()
    server.server_close()


def test_follow_keeps_its_deadline_on_a_stream_of_keepalives(quiet_server: str) -> None:
    started = time.monotonic()
    with Client(quiet_server, "gk_x") as client, pytest.raises(ClientError) as caught:
        client.follow("s1", timeout=0.5)
    assert "not graded after 0.5 s" in str(caught.value)
    assert time.monotonic() - started < 6  # the stream alone would last 20 s


def test_retry_after_is_honoured_with_the_same_idempotency_key() -> None:
    keys: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["idempotency-key"])
        if len(keys) < 3:
            return httpx.Response(
                429,
                headers={"Retry-After": "2"},
                json={"error": {"code": "rate_limited", "message": "slow down", "details": None}},
            )
        return httpx.Response(202, json=accepted_json())

    client, slept = mock_client(handler)
    with client:
        accepted = client.submit("echo", "echo.py", b"x = 1\n")
    assert accepted["id"] == "s1"
    assert slept == [2.0, 2.0]
    assert len(keys) == 3 and len(set(keys)) == 1


def test_too_long_a_retry_after_is_reported_not_waited() -> None:
    calls = 0

    def handler(_request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(
            429,
            headers={"Retry-After": "120"},
            json={"error": {"code": "rate_limited", "message": "slow down", "details": None}},
        )

    client, slept = mock_client(handler)
    with client, pytest.raises(ClientError, match=r"429.*retry after 120 s"):
        client.submit("echo", "echo.py", b"x = 1\n")
    assert calls == 1 and slept == []


def test_retries_are_bounded_and_back_off_without_retry_after() -> None:
    calls = 0

    def handler(_request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503)

    client, slept = mock_client(handler)
    with client, pytest.raises(ClientError, match="503"):
        client.module_of("echo")
    assert calls == 1 + RETRIES
    assert slept == [0.5, 1.0, 2.0]


def test_a_post_without_idempotency_key_is_never_repeated() -> None:
    calls = 0

    def handler(_request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, headers={"Retry-After": "1"})

    client, slept = mock_client(handler)
    with client:
        assert client._request("POST", "/v1/submissions", json={}).status_code == 503
    assert calls == 1 and slept == []


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_800_000_000.0

    def answer(value: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value})

    in_ten = format_datetime(datetime.fromtimestamp(now + 10, UTC), usegmt=True)
    past = format_datetime(datetime.fromtimestamp(now - 60, UTC), usegmt=True)
    assert retry_after(answer("7"), lambda: now) == 7.0
    assert retry_after(answer(in_ten), lambda: now) == 10.0
    assert retry_after(answer(past), lambda: now) == 0.0
    assert retry_after(answer("soon"), lambda: now) is None
    assert retry_after(httpx.Response(429), lambda: now) is None


def test_a_server_that_starts_late_is_reached_by_connect_retries() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    port = listener.getsockname()[1]
    with httpx.Client() as plain, pytest.raises(httpx.ConnectError):
        plain.get(f"http://127.0.0.1:{port}/")
    body = b'{"module": "echo.py"}'

    def serve_once() -> None:
        listener.listen(1)
        listener.settimeout(10)  # a client that never comes must not hold the test up
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
            )

    starter = threading.Timer(0.1, serve_once)  # httpx tries again at once, then after 0.5 s
    starter.start()
    try:
        with Client(f"http://127.0.0.1:{port}") as client:
            assert client.module_of("echo") == "echo.py"
    finally:
        starter.join(10)
        listener.close()


# --- Docker attach demultiplexing -------------------------------------------------------------


def test_attach_channel_reads_with_the_docker_sdk_frame_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    used: list[object] = []
    sdk_reader = sandbox.docker_channel.frames_iter_no_tty

    def spy(sock: object) -> Iterator[tuple[int, bytes]]:
        used.append(sock)
        yield from sdk_reader(sock)

    monkeypatch.setattr(sandbox.docker_channel, "frames_iter_no_tty", spy)
    host, daemon = socket.socketpair()
    out, err = OutputBuffer(1000), OutputBuffer(1000)
    chan = AttachChannel(raw_socket(host), out, err, READY)
    chan.start()
    for stream, payload in ((1, READY + b"out"), (2, b"err"), (3, b"unknown stream")):
        daemon.sendall(struct.pack(">BxxxL", stream, len(payload)) + payload)
    daemon.close()
    chan.close()
    assert used == [host]
    assert chan.gate.ok and out.take_all() == b"out" and err.take_all() == b"err"


# --- API docs with local assets ---------------------------------------------------------------


def test_docs_pages_load_every_asset_from_the_service() -> None:
    app = create_app(Settings(database_url="sqlite://"))  # the pages need no lifespan

    async def fetch_all() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://grader.test") as client:
            for page, kinds in (("/docs", {".js", ".css", ".png"}), ("/redoc", {".js", ".png"})):
                response = await client.get(page)
                assert response.status_code == 200
                assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", response.text), page
                urls = re.findall(r'(?:src|href)="([^"]+)"', response.text)
                assert {url[url.rindex(".") :] for url in urls} == kinds
                for url in urls:
                    assert url.startswith("/"), url
                    asset = await client.get(url)
                    assert asset.status_code == 200, url
                    assert len(asset.content) > 1000, url
            assert (await client.get("/openapi.json")).status_code == 200

    asyncio.run(fetch_all())
