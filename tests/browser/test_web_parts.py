"""The web page's server side without a browser: headers, its endpoints' answers, the report
formats, Markdown escaping, the admin flag and its migration, and ``serve --open``'s URL."""

from __future__ import annotations

import io
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from api.models import Submission, utcnow
from api.web import launch
from api.web.reports import ReportFormat
from api.web.security import CONTENT_SECURITY_POLICY
from api.web.statement import render_markdown
from grader.formats import FORMATS
from tests.api.conftest import REPO, Server, assert_error, run_grader
from tests.browser.conftest import submit_api

# --- pure parts ------------------------------------------------------------------------------


def test_the_download_formats_are_the_clis() -> None:
    assert [f.value for f in ReportFormat] == list(FORMATS)


def test_markdown_keeps_raw_html_and_script_links_inert() -> None:
    html = render_markdown(
        "# Title\n\n<script>alert(1)</script>\n\nsee <img src=x onerror=alert(2)> "
        "[click](javascript:alert(3)) and [ok](https://example.org)\n"
    )
    assert "<h1>Title</h1>" in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    assert '<a href="https://example.org">ok</a>' in html


def test_the_policy_allows_no_inline_script_or_style() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000/"),
        ("0.0.0.0", "http://127.0.0.1:8000/"),
        ("::", "http://[::1]:8000/"),
        ("localhost", "http://localhost:8000/"),
    ],
)
def test_the_page_url_is_one_a_local_browser_reaches(host: str, url: str) -> None:
    assert launch.page_url(host, 8000) == url


def test_no_browser_is_opened_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr("sys.stderr", io.StringIO())  # not a terminal
    opened: list[str] = []
    monkeypatch.setattr(launch.webbrowser, "open", opened.append)
    assert not launch.can_open_browser()
    launch.open_page_when_ready("127.0.0.1", 1)
    assert opened == []


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_from_a_terminal_with_a_display_the_page_opens_once_the_port_listens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr("sys.stderr", _Terminal())
    opened: list[str] = []
    monkeypatch.setattr(launch.webbrowser, "open", opened.append)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        url = launch.open_page_when_ready("127.0.0.1", port)
        time.sleep(0.5)
        assert opened == []  # nothing listens yet
        listener.listen()
        deadline = time.monotonic() + 10
        while not opened and time.monotonic() < deadline:
            time.sleep(0.05)
    assert opened == [url] == [f"http://127.0.0.1:{port}/"]


def test_without_a_display_no_text_browser_takes_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stderr", _Terminal())
    monkeypatch.setattr("sys.platform", "linux")
    assert not launch.can_open_browser()


# --- the admin flag and its migration -------------------------------------------------------


def _alembic(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(REPO / "api" / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    return config


def test_the_admin_migration_adds_a_false_flag_to_existing_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    command.upgrade(_alembic(url), "0001")
    engine = create_engine(url)
    with engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO api_keys (id, name, token_hash, prefix, created_at) "
                "VALUES ('key_old', 'old', 'h', 'gk_x', '2024-01-01 00:00:00')"
            )
        )
    command.upgrade(_alembic(url), "0002")
    with engine.connect() as db:
        assert db.execute(text("SELECT admin FROM api_keys")).scalar_one() in (0, False)
    command.downgrade(_alembic(url), "0001")
    columns = {c["name"] for c in inspect(engine).get_columns("api_keys")}
    assert "admin" not in columns
    engine.dispose()


def test_keys_create_admin_and_list_show_the_role(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    plain = run_grader("keys", "create", "alice", "--database-url", url)
    admin = run_grader("keys", "create", "ops", "--admin", "--database-url", url)
    assert plain.returncode == admin.returncode == 0, plain.stderr + admin.stderr
    assert "created admin key" in admin.stderr and "admin" not in plain.stderr
    listed = run_grader("keys", "list", "--database-url", url)
    lines = {line.split()[1]: line for line in listed.stdout.splitlines()[1:] if line.strip()}
    assert lines["ops"].rstrip().endswith("admin")
    assert not lines["alice"].rstrip().endswith("admin")


# --- against the shared server ---------------------------------------------------------------


def test_the_page_and_its_assets_carry_the_security_headers(server: Server) -> None:
    with server.client() as client:
        for path in ("/", "/static/js/main.js", "/static/app.css"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-frame-options"] == "DENY"
        assert client.get("/").headers["content-type"].startswith("text/html")
        # The API and its interactive docs keep their own headers.
        assert "content-security-policy" not in client.get("/docs").headers
        assert_error(client.get("/static/nothing.js"), 404, "not_found")


def test_me_says_who_the_key_is(server: Server, keys: dict[str, str]) -> None:
    with server.client(keys["alice"]) as client:
        me = client.get("/v1/me").json()
    assert me["name"] == "alice" and me["admin"] is False and me["open_mode"] is False
    with server.client(keys["ops"]) as client:
        assert client.get("/v1/me").json()["admin"] is True
    with server.client() as client:
        assert_error(client.get("/v1/me"), 401, "unauthorized")


def test_statement_endpoint_renders_the_readme(server: Server, keys: dict[str, str]) -> None:
    with server.client(keys["alice"]) as client:
        body = client.get("/v1/exercises/lru-cache/statement").json()
        assert body["slug"] == "lru-cache"
        assert body["html"].startswith("<h1>LRU cache with expiry</h1>")
        assert_error(client.get("/v1/exercises/nope/statement"), 404, "exercise_not_found")
    with server.client() as client:
        assert_error(client.get("/v1/exercises/lru-cache/statement"), 401)


def test_report_downloads_in_every_format(
    server: Server, keys: dict[str, str], bob_submission: dict[str, Any]
) -> None:
    sid = bob_submission["id"]
    with server.client(keys["bob"]) as client:
        as_json = client.get(f"/v1/submissions/{sid}/report/json")
        assert as_json.headers["content-type"] == "application/json"
        assert as_json.json() == bob_submission["report"]
        junit = client.get(f"/v1/submissions/{sid}/report/junit")
        assert junit.headers["content-type"] == "application/xml"
        assert junit.text.startswith("<?xml") and "<testsuites" in junit.text
        markdown = client.get(f"/v1/submissions/{sid}/report/markdown")
        assert markdown.headers["content-type"].startswith("text/markdown")
        disposition = markdown.headers["content-disposition"]
        assert disposition == f'attachment; filename="lru-cache-{sid[:8]}-markdown.md"'
        for fmt in FORMATS:
            assert client.get(f"/v1/submissions/{sid}/report/{fmt}").status_code == 200, fmt
        assert_error(client.get(f"/v1/submissions/{sid}/report/pdf"), 422, "invalid_request")
        assert_error(client.get("/v1/submissions/nope/report/json"), 404, "submission_not_found")


def test_admin_endpoints_list_everyone_for_admin_keys_only(
    server: Server, keys: dict[str, str], bob_submission: dict[str, Any]
) -> None:
    with server.client(keys["ops"]) as client:
        overview = client.get("/v1/admin/overview").json()
        assert overview["workers"] == {"size": 2, "alive": 2, "busy": overview["workers"]["busy"]}
        assert overview["counts"]["completed"] >= 1
        page = client.get(
            "/v1/admin/submissions", params={"owner": bob_submission_owner(server, keys)}
        ).json()
        assert [row["id"] for row in page["data"]] == [bob_submission["id"]]
        assert page["data"][0]["owner_name"] == "bob" and page["count"] == 1
        assert_error(client.get("/v1/admin/submissions", params={"limit": 0}), 422)
    for who in ("alice", "bob"):
        with server.client(keys[who]) as client:
            assert_error(client.get("/v1/admin/overview"), 403, "forbidden")
            assert_error(client.get("/v1/admin/submissions"), 403, "forbidden")


def bob_submission_owner(server: Server, keys: dict[str, str]) -> str:
    """Bob's key id."""
    with server.client(keys["bob"]) as client:
        return str(client.get("/v1/me").json()["id"])


def test_recent_errors_list_failed_gradings_not_failed_submissions(
    server: Server, keys: dict[str, str]
) -> None:
    # A grading the grader itself failed (status error), as a lost sandbox leaves it; written
    # straight into the service's database, as the worker would.
    failed_id = str(uuid.uuid4())
    engine = create_engine(server.database_url)
    with Session(engine) as db:
        db.add(
            Submission(
                id=failed_id,
                owner="key_gone",
                exercise="lru-cache",
                files="{}",
                status="error",
                request_hash="x",
                attempts=3,
                created_at=utcnow(),
                finished_at=utcnow(),
                error="grading was interrupted 3 times; giving up",
            )
        )
        db.commit()
    engine.dispose()
    # A submission that does not even compile is graded (completed), not an operator error.
    [graded] = submit_api(server, keys["alice"], "syntax error here(\n")
    assert graded["status"] == "completed" and graded["report"]["status"] == "error"
    with server.client(keys["ops"]) as client:
        errors = client.get("/v1/admin/overview").json()["recent_errors"]
    assert [row["id"] for row in errors] == [failed_id]
    assert errors[0]["error"].startswith("grading was interrupted")
    assert errors[0]["owner_name"] is None
