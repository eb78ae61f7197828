"""A bounded schemathesis run against the served OpenAPI schema: no input makes a 5xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.conftest import ServerFactory, clean_env

pytestmark = pytest.mark.slow


def test_no_generated_request_causes_a_server_error(server_factory: ServerFactory,
                                                    tmp_path: Path) -> None:
    # The shipped exercises, so that the schema's example submission (lru-cache) is graded
    # and stateful testing can follow the links to real submissions; direct mode for speed.
    server = server_factory(exercises=None, max_wait=1, rate_burst=100000,
                            rate_per_minute=100000, max_queued_per_key=100000,
                            max_body_bytes=65536).start()
    token = server.key("fuzz")
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json",
        "--checks", "not_a_server_error", "--max-examples", "60", "--seed", "20241121",
        "--header", f"Authorization: Bearer {token}", "--request-timeout", "30",
        # One worker: Python 3.11's ast.parse is not thread-safe, and hypothesis calls it.
        "--workers", "1", "--no-color",
    ]
    # In a temporary folder: schemathesis and hypothesis keep caches where they run.
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path,
                          env=clean_env(SCHEMATHESIS_TELEMETRY="false"), check=False)
    assert done.returncode == 0, f"{done.stdout[-6000:]}\n{done.stderr[-2000:]}\n{server.log()}"
    assert "passed" in done.stdout
    with server.client() as client:
        assert client.get("/healthz").status_code == 200
    server.stop()
