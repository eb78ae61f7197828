"""A small client of the service: upload a submission and follow it until it is graded."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

#: Statuses a submission never leaves.
FINAL_STATUSES = ("completed", "error")
#: Seconds of each long-poll, used when the event stream is not usable (short: progress shows).
POLL_WAIT = 2.0


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


class Client:
    """Talks to one server with one token (or none, for open mode)."""

    def __init__(self, server: str, token: str | None = None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.server = server.rstrip("/")
        self.http = httpx.Client(
            base_url=self.server, headers=headers, timeout=httpx.Timeout(timeout + POLL_WAIT)
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
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

    def module_of(self, slug: str) -> str:
        """The file name a submission to ``slug`` must have."""
        response = self._request("GET", f"/v1/exercises/{slug}")
        if response.status_code != 200:
            raise ClientError(describe(response))
        return str(response.json()["module"])

    def submit(self, slug: str, name: str, content: bytes) -> dict[str, Any]:
        """Upload ``content`` as file ``name``; the accepted submission.

        A retry after a dropped connection reuses the idempotency key, so it cannot
        create a second submission.
        """
        key = str(uuid.uuid4())
        for attempt in range(3):
            try:
                response = self._request(
                    "POST",
                    "/v1/submissions/upload",
                    data={"exercise": slug},
                    files={"files": (name, content, "text/x-python")},
                    headers={"Idempotency-Key": key},
                )
                break
            except Dropped:
                if attempt == 2:
                    raise
                time.sleep(0.5 * (attempt + 1))
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
        with self.http.stream("GET", url) as stream:
            if stream.status_code != 200:
                stream.read()
                raise ClientError(describe(stream))
            for line in stream.iter_lines():
                if time.monotonic() > deadline:
                    return None
                if not line.startswith("data: "):
                    continue  # event names, ids, keep-alive comments
                submission: dict[str, Any] = json.loads(line.removeprefix("data: "))
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
