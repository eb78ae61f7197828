"""The full flow on the shipped exercises: every reference solution, graded in the process
sandbox through the service, completes at 100%; the catalogue never shows hidden material."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.catalogue import Catalogue, default_exercises_dir
from tests.api.conftest import Server, run_grader, wait_final
from tests.fleet.services import Backends

SHIPPED = Catalogue(default_exercises_dir())
SLUGS = SHIPPED.slugs()


Shipped = tuple[Server, str, dict[str, str]]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory,
            mode_backends: Backends | None) -> Iterator[Shipped]:
    """A server on the shipped exercises in the process sandbox, every reference submitted."""
    server = Server(tmp_path_factory.mktemp("shipped"), exercises=None, sandbox="process",
                    workers=2, backends=mode_backends)
    token = server.key("flow")
    server.start()
    ids = {}
    with server.client(token) as client:
        for slug in SLUGS:
            exercise = SHIPPED.get(slug)
            source = exercise.reference_path.read_text(encoding="utf-8")
            response = client.post("/v1/submissions",
                                   json={"exercise": slug, "files": {exercise.meta.module: source}})
            assert response.status_code == 202, response.text
            assert response.headers["location"] == f"/v1/submissions/{response.json()['id']}"
            ids[slug] = response.json()["id"]
    yield server, token, ids
    server.stop()


def test_the_shipped_catalogue_has_four_exercises() -> None:
    assert len(SLUGS) >= 4


@pytest.mark.parametrize("slug", SLUGS)
def test_reference_solution_completes_at_full_score(shipped: Shipped,
                                                     slug: str) -> None:
    server, token, ids = shipped
    with server.client(token) as client:
        done = wait_final(client, ids[slug], timeout=240)
    assert done["status"] == "completed", done
    report = done["report"]
    assert report["exercise"] == slug
    assert report["status"] == "passed", report
    assert report["score"] == report["max_score"] > 0
    assert report["mode"] == "isolated" and report["sandbox"] == "process"
    assert done["attempts"] == 1 and done["error"] is None


def _hidden_material(slug: str) -> list[str]:
    """Strings that only the hidden suite, the reference or the mutants contain."""
    exercise = SHIPPED.get(slug)
    secrets = [exercise.meta.canary]
    for path in exercise.hidden_files():
        secrets += [line.strip() for line in path.read_text().splitlines()
                    if line.strip().startswith("def test_")]
    return secrets


@pytest.mark.parametrize("slug", SLUGS)
def test_exercise_detail_has_the_public_material_only(shipped: Shipped,
                                                      slug: str) -> None:
    server, token, _ids = shipped
    exercise = SHIPPED.get(slug)
    with server.client(token) as client:
        response = client.get(f"/v1/exercises/{slug}")
    assert response.status_code == 200
    detail: dict[str, Any] = response.json()
    assert detail["module"] == exercise.meta.module
    assert detail["statement"] == exercise.statement
    assert detail["stub"] == exercise.stub_path.read_text(encoding="utf-8")
    assert sorted(detail["visible_tests"]) == [p.name for p in exercise.visible_tests()]
    text = response.text
    for secret in _hidden_material(slug):
        assert json.dumps(secret)[1:-1] not in text, f"hidden material served: {secret}"
    assert json.dumps(exercise.reference_path.read_text())[1:-1] not in text
    assert "canary" not in detail


def test_exercise_list(shipped: Shipped) -> None:
    server, token, _ids = shipped
    with server.client(token) as client:
        body = client.get("/v1/exercises").json()
    assert [e["slug"] for e in body["data"]] == SLUGS and body["count"] == len(SLUGS)
    assert {"slug", "title", "summary", "difficulty", "module"} == set(body["data"][0])


def test_readyz_reports_the_process_sandbox(shipped: Shipped) -> None:
    server, _token, _ids = shipped
    with server.client() as client:
        body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    if server.fleet:  # the API node grades nothing: the sandbox is the worker node's
        assert "sandbox" not in body["checks"]
        assert body["checks"]["broker"] == body["checks"]["redis"] == "ok"
        assert server.worker is not None and "sandbox process" in server.worker.text()
    else:
        assert body["checks"]["sandbox"].startswith("ok (process")


def _stable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what differs between two runs (times, also each test's)."""
    tests = [{k: v for k, v in t.items() if k != "duration"} for t in report.get("tests", [])]
    stable = {k: v for k, v in report.items() if k not in ("started_at", "duration")}
    return {**stable, "tests": tests}


def test_grader_submit_prints_what_grader_grade_prints(
        shipped: Shipped, tmp_path: Path) -> None:
    server, token, _ids = shipped
    slug = "token-bucket" if "token-bucket" in SLUGS else SLUGS[0]
    reference = SHIPPED.get(slug).reference_path
    remote = run_grader("submit", slug, str(reference), "--server", server.url,
                        "--token", token, "--format", "json", timeout=300)
    local = run_grader("grade", slug, str(reference), "--sandbox", "process", "--format", "json",
                       timeout=300)
    assert remote.returncode == local.returncode == 0, remote.stderr + local.stderr
    assert _stable(json.loads(remote.stdout)) == _stable(json.loads(local.stdout))
