"""The peer-style baseline for the benchmarks: the hidden suite run the way Exercism's,
otter's and Gradescope's runners run a submission, pytest with the tests and the submission
together in one fresh container per grading.

The image is the runner image plus pytest, installed offline: the wheels come from PyPI through
pip (no container registry is needed) and are unpacked into the image's ``dist-packages``.
Each grading bind-mounts a folder read-only (the hidden tests, the submission, the reference,
the grader's stdlib-only test kit and a ``conftest.py`` that gives the suite its fixtures),
runs ``python3 -m pytest`` in a container with no network, waits, reads the JUnit file from a
writable tmpfs through the output, and removes the container. A bench helper, not product code.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import docker

REPO = Path(__file__).resolve().parent.parent
PEER_IMAGE = "hidden-grader-peer:1"
BASE_IMAGE = "hidden-grader-runner:1"
WHEELS = ["pytest==8.3.4", "pluggy==1.5.0", "iniconfig==2.0.0", "packaging==24.2"]

CONFTEST = '''
import importlib, importlib.util, sys
import pytest
sys.path[:0] = ["/job/lib", "/job/submission"]
from grader.testkit import Kit

def pytest_configure(config):
    config.addinivalue_line("markers", "category(name): score category")

@pytest.fixture
def subject():
    return importlib.import_module(MODULE)

@pytest.fixture
def kit():
    return Kit()

@pytest.fixture
def reference():
    spec = importlib.util.spec_from_file_location("_reference", "/job/reference/" + MODULE + ".py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
'''


def build_image(api: docker.APIClient | None = None) -> str:
    """Build the peer image (once) from the runner image and pytest's wheels; its tag."""
    client = docker.from_env()
    try:
        client.images.get(PEER_IMAGE)
        return PEER_IMAGE
    except docker.errors.ImageNotFound:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        wheels, site = Path(tmp) / "wheels", Path(tmp) / "site"
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             "-d", str(wheels), *WHEELS],
            check=True,
        )
        for wheel in wheels.glob("*.whl"):
            zipfile.ZipFile(wheel).extractall(site)
        (Path(tmp) / "Dockerfile").write_text(
            f"FROM {BASE_IMAGE}\nCOPY site/ /usr/local/lib/python3.11/dist-packages/\n"
        )
        client.images.build(path=tmp, tag=PEER_IMAGE, rm=True, pull=False)
    return PEER_IMAGE


def stage(hidden: Path, submission: Path, reference: Path, module: str) -> Path:
    """A job folder: tests, submission, reference, the kit, and the fixtures' conftest."""
    job = Path(tempfile.mkdtemp(prefix="grader-peer-"))
    shutil.copytree(hidden, job / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    (job / "tests" / "conftest.py").write_text(f"MODULE = {module!r}\n" + CONFTEST)
    for name, source in (("submission", submission), ("reference", reference)):
        (job / name).mkdir()
        shutil.copy(source, job / name / f"{module}.py")
    lib = job / "lib" / "grader"
    for part in ("__init__.py", "testkit", "bridge"):
        src = REPO / "grader" / part
        if src.is_dir():
            shutil.copytree(src, lib / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            lib.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, lib / part)
    (lib / "__init__.py").write_text("")
    for path in [job, *job.rglob("*")]:  # readable by the container's user (nobody)
        path.chmod(0o755 if path.is_dir() else 0o644)
    return job


def run_peer(client: docker.DockerClient, job: Path, timeout: float = 120) -> tuple[int, int]:
    """Run the suite in ``job`` in one fresh container; (tests passed, tests run)."""
    out = Path(tempfile.mkdtemp(prefix="grader-peer-out-"))
    out.chmod(0o777)  # the container's user (nobody) writes the results there
    container = client.containers.create(
        PEER_IMAGE,
        ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "/job/tests",
         "--junitxml=/out/junit.xml", "-o", "junit_family=xunit2"],
        volumes={str(job): {"bind": "/job", "mode": "ro"}, str(out): {"bind": "/out", "mode": "rw"}},
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": "rw,size=64m"},
        working_dir="/tmp",
        user="65534:65534",
        mem_limit="512m",
        pids_limit=128,
        environment={"PYTHONDONTWRITEBYTECODE": "1"},
    )
    try:
        container.start()
        container.wait(timeout=timeout)
        suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
        assert suite is not None, "pytest wrote no test suite"
        total = int(suite.get("tests", 0))
        bad = sum(int(suite.get(k, 0)) for k in ("failures", "errors", "skipped"))
        return total - bad, total
    finally:
        container.remove(force=True, v=True)
        shutil.rmtree(out, ignore_errors=True)
