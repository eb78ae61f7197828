"""The web page end to end, in headless Chromium against a real ``grader serve``: sign in,
solve lru-cache, follow the grading, read the report, and the access rules and defences."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.api.conftest import Server
from tests.browser.conftest import (
    lru_buggy,
    lru_reference,
    new_key,
    screenshot,
    sign_in,
    submit_api,
)

GRADING = 90_000  # ms a grading may take on a slow CI machine


#: Records every text the progress line shows (an init script: it runs outside the page's CSP).
RECORD_PROGRESS = """
window.__progress = [];
new MutationObserver(() => {
  const line = document.getElementById("progress");
  const text = line ? line.textContent : null;
  if (text && window.__progress[window.__progress.length - 1] !== text) window.__progress.push(text);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Poll ``condition`` (page state the test reads from Python) until it holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _submit_in_editor(page: Any, source: str) -> str:
    """Put ``source`` in the editor, press Submit, wait for the submission page; its id."""
    page.fill("#editor", source)
    page.click("#submit")
    page.wait_for_selector("#submission[data-id]")
    assert re.search(r"#/submissions/[0-9a-f-]+$", page.url), page.url
    return str(page.url.rsplit("/", 1)[1])


def test_sign_in_refuses_an_unknown_key_then_lists_the_exercises(
    page: Any, server: Server, keys: dict[str, str]
) -> None:
    response = page.goto(server.url + "/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    page.wait_for_selector("#sign-in")
    screenshot(page, "sign-in")
    page.fill("#token", "gk_not-a-key")
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#sign-in-status .error")
    assert "unknown or revoked" in page.text_content("#sign-in-status")
    assert page.evaluate("sessionStorage.length") == 0  # a refused key is not kept

    page.fill("#token", keys["alice"])
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#exercises")
    assert page.text_content("#who-name") == "signed in as alice"
    slugs = page.eval_on_selector_all(
        "#exercises a[data-slug]", "els => els.map(e => e.dataset.slug)"
    )
    assert "lru-cache" in slugs
    assert page.is_hidden("#nav-admin")  # not an admin key
    # The key lives in this tab's sessionStorage only: no cookie was set.
    assert page.context.cookies() == []
    screenshot(page, "exercises")
    assert page.errors == []


def test_solving_lru_cache_failing_then_with_the_reference(
    page: Any, server: Server, keys: dict[str, str], tmp_path: Path
) -> None:
    page.add_init_script(RECORD_PROGRESS)
    sign_in(page, server, keys["alice"])
    page.click("a[data-slug=lru-cache]")
    page.wait_for_selector("#statement h1")
    assert page.text_content("#statement h1") == "LRU cache with expiry"
    stub = (Path(__file__).parents[2] / "exercises/lru-cache/stub/lru_cache.py").read_text()
    assert page.input_value("#editor") == stub
    assert page.locator("details.visible-test summary").first.text_content() == "test_lru_cache.py"
    screenshot(page, "exercise")

    # The editor indents with Tab (and Shift-Tab takes it back).
    page.fill("#editor", "")
    page.press("#editor", "Tab")
    assert page.input_value("#editor") == "    "
    page.press("#editor", "Shift+Tab")
    assert page.input_value("#editor") == ""

    # Both workers busy with two gradings of alice's (sent through the API) ...
    with server.client(keys["alice"]) as client:
        for _ in range(2):
            files = {"lru_cache.py": lru_reference()}
            busy = client.post("/v1/submissions", json={"exercise": "lru-cache", "files": files})
            assert busy.status_code == 202, busy.text
    # ... a buggy solution waits in the queue; the page follows it through queued and running,
    # then lists the failing tests with their hints.
    _submit_in_editor(page, lru_buggy())
    page.wait_for_selector("#report", timeout=GRADING)
    assert page.get_attribute("#progress", "data-status") == "completed"
    seen = page.evaluate("window.__progress")
    assert any(text.startswith("Queued: position ") for text in seen), seen
    assert "Running the hidden tests…" in seen, seen
    score = page.text_content("#score")
    assert score is not None and score.endswith("%") and score != "100%"
    assert page.text_content("#result") == "failed"
    assert page.locator("#categories tbody tr").count() == 5
    failing = page.locator("#failing li")
    assert failing.count() >= 1
    first = failing.first
    assert first.locator(".test-name").text_content()
    assert (first.locator(".hint").text_content() or "").startswith("Expected: ")
    screenshot(page, "submission-failing")

    # The JSON download is the public report the API serves.
    with page.expect_download() as info:
        page.click("#downloads button[data-format=json]")
    saved = tmp_path / "report.json"
    info.value.save_as(saved)
    report = json.loads(saved.read_text())
    assert f"{round(100 * report['score'] / report['max_score'])}%" == score
    assert report["status"] == "failed"
    with page.expect_download() as info:
        page.click("#downloads button[data-format=junit]")
    assert info.value.suggested_filename.endswith("-junit.xml")

    # The reference solution scores 100%.
    page.click("#main h1 a")
    page.wait_for_selector("#editor")
    _submit_in_editor(page, lru_reference())
    page.wait_for_selector("#report", timeout=GRADING)
    assert page.text_content("#score") == "100%"
    assert page.text_content("#result") == "passed"
    assert page.is_visible("#failing-none")
    screenshot(page, "submission-passed")
    assert page.errors == []


def test_my_submissions_newest_first_filtered_with_a_score_chart(
    page: Any, server: Server, keys: dict[str, str]
) -> None:
    # Two graded submissions of carol's own, made through the API: a failing one, then 100%.
    token = new_key(server, "carol")
    older, newer = submit_api(server, token, lru_buggy(), lru_reference())
    sign_in(page, server, token)
    page.click("a[data-nav=mine]")
    page.wait_for_selector("#my-submissions")
    ids = page.eval_on_selector_all(
        "#my-submissions tbody tr", "rows => rows.map(r => r.dataset.id)"
    )
    assert ids == [newer["id"], older["id"]]
    page.select_option("#filter", "lru-cache")
    _wait_for(lambda: page.url.endswith("#/mine?exercise=lru-cache"))
    page.wait_for_selector("#filter option[value=lru-cache][selected]", state="attached")
    page.wait_for_selector("#charts figure[data-exercise=lru-cache]")
    dots = page.locator("#charts figure[data-exercise=lru-cache] circle")
    assert dots.count() == 2
    assert dots.nth(1).get_attribute("class") == "dot full"  # the newer one scored 100%
    assert "best 100%" in (page.text_content("#charts figcaption") or "")
    screenshot(page, "my-submissions")
    page.click(f"#my-submissions tr[data-id='{older['id']}'] a")
    page.wait_for_selector("#report")
    assert page.text_content("#score") == f"{round(older['report']['score'])}%"
    assert page.errors == []


def test_another_keys_submission_is_reachable_neither_by_page_nor_by_api(
    page: Any, server: Server, keys: dict[str, str], bob_submission: dict[str, Any]
) -> None:
    theirs = bob_submission["id"]
    with server.client(keys["alice"]) as alice:
        assert alice.get(f"/v1/submissions/{theirs}").status_code == 404
        assert alice.get(f"/v1/submissions/{theirs}/events").status_code == 404
        assert alice.get(f"/v1/submissions/{theirs}/report/json").status_code == 404
        assert alice.get("/v1/admin/overview").status_code == 403
        assert alice.get("/v1/admin/submissions").status_code == 403
        mine = alice.get("/v1/submissions", params={"limit": 100}).json()["data"]
        assert theirs not in [row["id"] for row in mine]
    with server.client(keys["bob"]) as bob:  # the owner does reach it
        assert bob.get(f"/v1/submissions/{theirs}/report/json").status_code == 200

    sign_in(page, server, keys["alice"])
    page.goto(f"{server.url}/#/submissions/{theirs}")
    page.wait_for_selector("#main .notice.error")
    assert "No such submission" in page.text_content("#main")
    assert page.locator("#report").count() == 0
    page.goto(f"{server.url}/#/admin")
    page.wait_for_selector("#main .notice.error")
    assert "admin key" in page.text_content("#main")
    assert page.locator("#operator").count() == 0


HOSTILE_LINE = (
    'print("<script>window.__pwned = 1</script><img src=x onerror=\\"window.__pwned = 2\\">'
    '\\x1b[31mRED\\x1b[0m\\x1b]0;title\\x07")'
)


def _hostile_solution() -> str:
    """The reference, printing markup and terminal escapes whenever a cache is made."""
    source = lru_reference()
    anchor = "        self._entries"
    at = source.index(anchor)
    return source[:at] + "        " + HOSTILE_LINE + "\n" + source[at:]


def test_what_a_submission_prints_is_shown_as_inert_text(
    page: Any, server: Server, keys: dict[str, str]
) -> None:
    sign_in(page, server, keys["alice"])
    page.goto(f"{server.url}/#/exercises/lru-cache")
    page.wait_for_selector("#editor")
    _submit_in_editor(page, _hostile_solution())
    page.wait_for_selector("#report", timeout=GRADING)
    output = page.text_content("#output") or ""
    assert "<script>window.__pwned = 1</script>" in output
    assert '<img src=x onerror="window.__pwned = 2">' in output
    # Terminal escapes are shown by name, in marked-up labels no printed text can imitate.
    assert "ESC[31mREDESC[0mESC]0;titleBEL" in output
    assert "\x1b" not in output and "\x07" not in output
    labels = page.eval_on_selector_all("#output .ctl", "els => els.map(e => e.textContent)")
    assert labels[:4] == ["ESC", "ESC", "ESC", "BEL"]
    # Those labels are the only elements: nothing the submission printed became markup.
    assert page.evaluate("document.querySelectorAll('#output *:not(span.ctl)').length") == 0
    assert page.evaluate("document.querySelectorAll('#report script, #report img').length") == 0
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "hostile-output")
    assert page.errors == []


def test_the_operator_view_shows_every_submission_the_queue_and_the_workers(
    page: Any, server: Server, keys: dict[str, str], bob_submission: dict[str, Any]
) -> None:
    sign_in(page, server, keys["ops"])
    assert page.is_visible("#nav-admin")
    page.click("#nav-admin")
    page.wait_for_selector("#all-submissions")
    assert page.text_content("#workers .stat-value") == "2/2"
    assert (page.text_content("#queue-depth .stat-value") or "").isdigit()
    owners = page.eval_on_selector_all(
        "#all-submissions tbody tr", "rows => rows.map(r => r.children[1].textContent)"
    )
    assert any(owner.startswith("bob (") for owner in owners)
    ids = page.eval_on_selector_all(
        "#all-submissions tbody tr", "rows => rows.map(r => r.dataset.id)"
    )
    assert bob_submission["id"] in ids
    screenshot(page, "operator")
    assert page.errors == []
