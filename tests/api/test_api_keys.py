"""API keys: the ``grader keys`` commands, key isolation, revocation and open mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import (
    Server,
    ServerFactory,
    assert_error,
    clean_env,
    run_grader,
    submit,
    wait_final,
)


def test_keys_create_list_revoke(fixture_server: Server) -> None:
    db = ["--database-url", fixture_server.database_url]
    created = run_grader("keys", "create", "carol", *db)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("gk_") and len(token) > 40 and "\n" not in token
    key_id = created.stderr.split()[1]
    listed = run_grader("keys", "list", *db)
    assert listed.returncode == 0
    line = next(row for row in listed.stdout.splitlines() if row.startswith(key_id))
    assert "carol" in line and "active" in line
    assert token not in listed.stdout and token[:9] in listed.stdout
    with fixture_server.client(token) as client:
        assert client.get("/v1/submissions").status_code == 200
        revoked = run_grader("keys", "revoke", key_id, *db)
        assert revoked.returncode == 0, revoked.stderr
        assert_error(client.get("/v1/submissions"), 401, "unauthorized")
    assert "revoked" in run_grader("keys", "list", *db).stdout
    assert run_grader("keys", "revoke", "key_nonexistent", *db).returncode == 2


def test_keys_are_stored_hashed(fixture_server: Server) -> None:
    token = fixture_server.key("hashed")
    if not fixture_server.fleet:
        path = fixture_server.database_url.removeprefix("sqlite:///")
        with open(path, "rb") as db:
            assert token.encode() not in db.read()
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(fixture_server.database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_keys")).all()
    engine.dispose()
    assert rows and all(token not in repr(row) for row in rows)
    assert any(token[:9] in repr(row) for row in rows)  # the prefix is what is kept


def test_a_key_sees_only_its_own_submissions(fixture_server: Server) -> None:
    alice, bob = fixture_server.key("alice"), fixture_server.key("bob")
    with fixture_server.client(alice) as a, fixture_server.client(bob) as b:
        mine = submit(a, "echo", headers={"Idempotency-Key": "shared-key"}).json()["id"]
        theirs = submit(b, "echo", headers={"Idempotency-Key": "shared-key"}).json()["id"]
        assert mine != theirs
        unknown = b.get("/v1/submissions/00000000-0000-0000-0000-000000000000").json()
        other = b.get(f"/v1/submissions/{mine}")
        assert_error(other, 404, "submission_not_found")
        assert other.json()["error"]["code"] == unknown["error"]["code"]
        assert_error(b.get(f"/v1/submissions/{mine}", params={"wait": 1}), 404)
        assert_error(b.get(f"/v1/submissions/{mine}/events"), 404)
        assert [s["id"] for s in b.get("/v1/submissions").json()["data"]] == [theirs]
        assert [s["id"] for s in a.get("/v1/submissions").json()["data"]] == [mine]
        assert wait_final(a, mine)["status"] == "completed"


@pytest.mark.parametrize("flag", ["--open", "GRADER_OPEN_MODE"])
def test_open_mode_needs_no_key_but_still_checks_given_ones(server_factory: ServerFactory,
                                                           flag: str) -> None:
    server = server_factory(open_mode=flag == "--open")
    if flag == "GRADER_OPEN_MODE":
        server.settings[flag] = "1"
    server.start()
    with server.client() as anonymous:
        accepted = submit(anonymous, "echo")
        assert accepted.status_code == 202
        assert wait_final(anonymous, accepted.json()["id"])["report"]["status"] == "passed"
        assert anonymous.get("/v1/submissions").json()["count"] == 1
    with server.client("gk_unknown") as wrong:
        assert_error(wrong.get("/v1/submissions"), 401)
        # A page of another site cannot make the browser submit here (no key needed in open
        # mode, so the Origin check is what stops it); this service's own page can.
        form = {"exercise": "echo"}
        files = {"files": ("echo.py", b"def echo(x):\n    return x\n")}
        evil = {"Origin": "http://evil.example"}
        with server.client() as browser:
            assert_error(browser.post("/v1/submissions/upload", data=form, files=files,
                                      headers=evil), 403, "cross_origin")
            assert_error(browser.post("/v1/submissions", json={"exercise": "echo", "files": {}},
                                      headers=evil), 403, "cross_origin")
            own = {"Origin": server.url}
            accepted = browser.post("/v1/submissions/upload", data=form, files=files, headers=own)
            assert accepted.status_code == 202, accepted.text
    assert "open mode" in server.log()
    server.stop()


def test_keys_default_to_one_database_in_the_data_directory(tmp_path: Path) -> None:
    env = clean_env(XDG_DATA_HOME=str(tmp_path))
    created = run_grader("keys", "create", "dave", env=env)
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "hidden-grader" / "grader.sqlite3").is_file()
    assert "dave" in run_grader("keys", "list", env=env).stdout
