"""A small client of the service: upload a submission and follow it until it is graded.

Requests that may safely be repeated (reads, and the upload, which carries an
``Idempotency-Key``) are tried again when the connection drops or the server answers 429 or
503, after the ``Retry-After`` the server gave; connections that cannot be opened are retried
by httpx's transport. Progress comes from the submission's event stream (parsed by
``httpx-sse``), or from long-polls when the stream is not usable.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import connect_sse

#: Statuses a submission never leaves.
FINAL_STATUSES = ("completed", "error")
#: Seconds of each long-poll, used when the event stream is not usable (short: progress shows).
POLL_WAIT = 2.0
#: Tries after the first of a request that may be repeated.
RETRIES = 3
#: Answers worth trying again after the wait the server asks for.
RETRY_STATUSES = frozenset({429, 503})
#: The longest ``Retry-After`` waited out; a server asking for more gets its answer reported.
MAX_RETRY_AFTER = 30.0
#: First wait (doubled each try) when a 429 or 503 does not say how long, or a connection drops.
BACKOFF = 0.5
#: Times httpx tries again to open a connection (nothing was sent, so any request may be).
CONNECT_RETRIES = 2


class ClientError(Exception):
    """A problem worth one line to the user (the message says what and, if known, how to fix)."""


class Dropped(ClientError):
    """The connection broke after the request was sent: it may or may not have arrived."""


_HINTS = {
    401: "check --token or GRADER_TOKEN",
    413: "the upload is larger than the server accepts",
}


def describe(response: httpx.Response) -> str:
    """A one-line account of an error response."""
    try:
        detail = response.json()["error"]
        text = f"{detail['message']} ({detail['code']})"
    except (ValueError, KeyError, TypeError):
        text = response.reason_phrase or "unexpected answer"
    hint = _HINTS.get(response.status_code)
    if response.status_code == 429:
        hint = f"retry after {response.headers.get('Retry-After', 'a few')} s"
    return f"server answered {response.status_code}: {text}" + (f"; {hint}" if hint else "")


def retry_after(response: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """Seconds ``response``'s ``Retry-After`` asks to wait (delay seconds or an HTTP date,
    never negative); ``None`` if it has none or it cannot be read."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # not a valid HTTP date (those are GMT)
        return None
    return max(0.0, when.timestamp() - now())


def _repeatable(method: str, headers: Any) -> bool:
    """Whether a request may be sent twice: a read, or a write with an idempotency key."""
    return method in ("GET", "HEAD") or "Idempotency-Key" in (headers or {})


@contextlib.contextmanager
def _hang_up_at(response: httpx.Response, deadline: float) -> Iterator[None]:
    """Shut ``response``'s socket at ``deadline`` (monotonic), so that a stream carrying only
    keep-alive comments, which the event parser does not surface, cannot outlast it."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if not isinstance(sock, socket.socket):
        yield  # not a plain socket (e.g. a test transport): events still check the deadline
        return

    def hang_up() -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), hang_up)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class Client:
    """Talks to one server with one token (or none, for open mode).

    ``transport`` and ``sleep`` are for tests (an ``httpx.MockTransport``, a fake sleep).
    """

    def __init__(
        self,
        server: str,
        token: str | None = None,
        timeout: float = 30.0,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.server = server.rstrip("/")
        self._sleep = sleep
        self.http = httpx.Client(
            base_url=self.server,
            headers=headers,
            timeout=httpx.Timeout(timeout + POLL_WAIT),
            transport=transport or httpx.HTTPTransport(retries=CONNECT_RETRIES),
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request; transport failures become ``ClientError`` with a readable cause."""
        try:
            return self.http.request(method, url, **kwargs)
        except httpx.ConnectError as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else str(exc)
            raise ClientError(
                f"cannot connect to {self.server}: {reason} (is `grader serve` running there?)"
            ) from None
        except httpx.TimeoutException:
            raise ClientError(f"{self.server} did not answer in time") from None
        except (httpx.ReadError, httpx.RemoteProtocolError) as exc:
            raise Dropped(f"{self.server} dropped the connection: {exc}") from None
        except httpx.HTTPError as exc:
            raise ClientError(f"talking to {self.server} failed: {exc}") from None

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request, tried up to ``RETRIES`` times more if it may be repeated and the
        connection dropped or the server answered 429 or 503 with a wait we accept."""
        tries = 1 + (RETRIES if _repeatable(method, kwargs.get("headers")) else 0)
        for attempt in range(tries):
            last = attempt == tries - 1
            try:
                response = self._send(method, url, **kwargs)
            except Dropped:
                if last:
                    raise
                self._sleep(BACKOFF * 2**attempt)
                continue
            if last or response.status_code not in RETRY_STATUSES:
                return response
            wait = retry_after(response)
            if wait is None:
                wait = BACKOFF * 2**attempt
            elif wait > MAX_RETRY_AFTER:
                return response  # sooner would be refused again: report it instead
            self._sleep(wait)
        raise AssertionError("unreachable: the last try returns or raises")

    def module_of(self, slug: str) -> str:
        """The file name a submission to ``slug`` must have."""
        response = self._request("GET", f"/v1/exercises/{slug}")
        if response.status_code != 200:
            raise ClientError(describe(response))
        return str(response.json()["module"])

    def submit(self, slug: str, name: str, content: bytes) -> dict[str, Any]:
        """Upload ``content`` as file ``name``; the accepted submission.

        Every try carries the same idempotency key, so a retry cannot create a second
        submission.
        """
        response = self._request(
            "POST",
            "/v1/submissions/upload",
            data={"exercise": slug},
            files={"files": (name, content, "text/x-python")},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if response.status_code != 202:
            raise ClientError(describe(response))
        result: dict[str, Any] = response.json()
        return result

    def follow(
        self,
        submission_id: str,
        timeout: float,
        progress: Callable[[dict[str, Any]], None] = lambda _s: None,
    ) -> dict[str, Any]:
        """Follow the submission's event stream until it is completed or failed, reporting
        each state; long-poll instead if the stream breaks (e.g. a buffering proxy)."""
        deadline = time.monotonic() + timeout
        try:
            done = self._stream(submission_id, deadline, progress)
        except (httpx.TransportError, ValueError, KeyError):
            done = None
        while done is None:
            response = self._request(
                "GET", f"/v1/submissions/{submission_id}", params={"wait": POLL_WAIT}
            )
            if response.status_code != 200:
                raise ClientError(describe(response))
            submission: dict[str, Any] = response.json()
            progress(submission)
            if submission["status"] in FINAL_STATUSES:
                done = submission
            elif time.monotonic() > deadline:
                raise ClientError(
                    f"submission {submission_id} not graded after {timeout:g} s; "
                    "it is still queued on the server"
                )
        return done

    def _stream(
        self, submission_id: str, deadline: float, progress: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any] | None:
        """The final submission from ``/events``, or ``None`` if the stream ended early."""
        url = f"/v1/submissions/{submission_id}/events"
        with connect_sse(self.http, "GET", url) as source:
            response = source.response
            if response.status_code != 200:
                response.read()
                raise ClientError(describe(response))
            with _hang_up_at(response, deadline):
                for event in source.iter_sse():
                    if time.monotonic() > deadline:
                        return None
                    if event.event != "status":
                        continue
                    submission: dict[str, Any] = event.json()
                    progress(submission)
                    if submission["status"] in FINAL_STATUSES:
                        return submission
        return None


def read_submission(path: Path, module: Callable[[], str]) -> tuple[str, bytes]:
    """(file name, bytes) for ``path``: the module file itself, or a folder holding it."""
    if path.is_dir():
        name = module()
        if not (path / name).is_file():
            raise ClientError(f"no {name} in {path}")
        return name, (path / name).read_bytes()
    if not path.is_file():
        raise ClientError(f"no such file or folder: {path}")
    return path.name, path.read_bytes()
