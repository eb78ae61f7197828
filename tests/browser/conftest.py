"""Fixtures for the web page's end-to-end tests: one real ``grader serve`` on 127.0.0.1 for
the whole session, its API keys, and headless Chromium (Debian's, driven by Playwright).

Without /usr/bin/chromium or the playwright package the browser tests skip, saying why;
with ``CI=true`` they fail instead (``scripts/setup-browser.sh`` installs both).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.db import make_sessions, open_database
from api.keys import create_key
from tests.api.conftest import REPO, Server, wait_final

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: Flags for a quiet, self-contained headless run (no sandbox: CI runs as root).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "docs" / "screenshots"
LRU = REPO / "exercises" / "lru-cache"


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or ``None``."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is missing (run scripts/setup-browser.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install playwright)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium for the session; skip without it, fail without it under CI."""
    reason = _missing_browser()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests are required in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class PageErrors(list[str]):
    """Script errors and CSP violations a page reported."""


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab in its own context (so sessionStorage starts empty); collects script errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    errors = PageErrors()
    tab.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "401 (Unauthorized)" not in msg.text
            else None
        ),
    )
    tab.errors = errors
    yield tab
    context.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One keyed server for every browser test: the shipped exercises, process sandbox."""
    started = Server(
        tmp_path_factory.mktemp("web-server"),
        exercises=None,
        sandbox="process",
        workers=2,
        rate_per_minute=6000,
        rate_burst=1000,
        max_queued_per_key=1000,
    ).start()
    yield started
    started.stop()


def new_key(server: Server, name: str, admin: bool = False) -> str:
    """A new API key's token, made in this process on the server's database: quicker than a
    ``grader keys create`` run (that command's ``--admin`` is tested in test_web_parts.py)."""
    engine = open_database(server.database_url)
    try:
        with make_sessions(engine)() as session:
            return create_key(session, name, admin=admin)[1]
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def keys(server: Server) -> dict[str, str]:
    """Tokens: ``alice`` and ``bob`` (candidates) and ``ops`` (an admin key)."""
    return {name: new_key(server, name, admin=name == "ops") for name in ("alice", "bob", "ops")}


def lru_reference() -> str:
    """The lru-cache reference solution (scores 100%)."""
    return (LRU / "reference" / "lru_cache.py").read_text(encoding="utf-8")


def lru_buggy() -> str:
    """The reference with one bug: a full cache evicts the most recently used entry."""
    source = lru_reference()
    assert source.count("self._entries.popitem(last=False)") == 1
    return source.replace("self._entries.popitem(last=False)", "self._entries.popitem()")


def submit_api(server: Server, token: str, *sources: str) -> list[dict[str, Any]]:
    """Submit each of ``sources`` for lru-cache through the API, in order, then wait until all
    are graded (the workers grade them side by side)."""
    with server.client(token) as client:
        ids = []
        for source in sources:
            files = {"lru_cache.py": source}
            response = client.post(
                "/v1/submissions", json={"exercise": "lru-cache", "files": files}
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        return [wait_final(client, submission_id) for submission_id in ids]


@pytest.fixture(scope="session")
def bob_submission(server: Server, keys: dict[str, str]) -> dict[str, Any]:
    """A graded submission of bob's, which alice must not reach."""
    [done] = submit_api(server, keys["bob"], lru_buggy())
    assert done["status"] == "completed", done
    return done


def sign_in(page: Any, server: Server, token: str) -> None:
    """Open the page and sign in with ``token``; waits for the exercise list."""
    page.goto(server.url + "/")
    page.fill("#token", token)
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#exercises")


def screenshot(page: Any, name: str) -> None:
    """Save what the 1280x900 window shows to docs/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
