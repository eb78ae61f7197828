"""The newcomer path: ``grader serve --open``, then solve in the browser with no key at all.

Open mode is a setting of the whole server, so this module starts a second one (no grading
happens on it but the one test's)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Server
from tests.browser.conftest import lru_reference, screenshot


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``grader serve --open`` on the shipped exercises, process sandbox."""
    started = Server(
        tmp_path_factory.mktemp("open-server"), exercises=None, sandbox="process", open_mode=True
    ).start()
    yield started
    started.stop()


def test_serve_open_needs_no_key_from_page_to_grade(page: Any, open_server: Server) -> None:
    # Not from a terminal, so no browser was launched; the page's address was printed.
    assert f"web page: {open_server.url}/" in open_server.log()
    assert "opening it in your browser" not in open_server.log()

    page.goto(open_server.url + "/")
    page.wait_for_selector("#exercises")
    assert page.locator("#sign-in").count() == 0
    assert page.text_content("#who-name") == "open mode (no key needed)"
    assert page.is_hidden("#nav-admin")  # open mode's user is no operator
    page.click("a[data-slug=lru-cache]")
    page.wait_for_selector("#editor")
    page.fill("#editor", lru_reference())
    page.click("#submit")
    page.wait_for_selector("#submission[data-id]")
    assert re.search(r"#/submissions/[0-9a-f-]+$", page.url), page.url
    page.wait_for_selector("#report", timeout=90_000)
    assert page.text_content("#score") == "100%"
    screenshot(page, "open-mode")
    assert page.errors == []


def test_the_screenshots_of_the_readme_exist() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"\((docs/screenshots/[\w-]+\.png)\)", readme)
    assert len(shown) >= 2
    for path in shown:
        assert (Path(__file__).parents[2] / path).is_file(), path
