"""What the harness child imports before its first test: only what it needs.

Every grading starts a child; each heavy library it imports for nothing is paid on every
grading (pydantic and the exercise models, about 0.15 s). The Docker SDK (about 0.1 s) comes in
only when the child picks the Docker backend, never with the harness's own modules.
"""

from __future__ import annotations

import json
import subprocess
import sys

from grader.harness.launch import child_env

CHILD_MODULES = ["grader.harness.child", "grader.harness.isolated", "grader.harness.plugin"]


def modules_after_importing(names: list[str]) -> set[str]:
    """The top-level packages a fresh interpreter holds after importing ``names``."""
    code = (
        f"import importlib, json, sys\nfor name in {names!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout))


def test_the_harness_child_imports_neither_pydantic_nor_the_docker_sdk() -> None:
    loaded = modules_after_importing(CHILD_MODULES)
    assert "grader" in loaded and "pytest" in loaded  # the probe works
    assert not loaded & {"pydantic", "pydantic_core", "docker", "requests", "fastapi"}, loaded


def test_the_attach_demultiplexer_is_the_sdks_own_without_the_sdk() -> None:
    """The Docker SDK's frame reader, loaded from its file: no ``docker`` package, no
    ``requests`` (a warm grading needs neither, see sandbox/docker_lite.py)."""
    code = (
        "import json, sys\nimport sandbox.docker_channel as channel\n"
        "print(json.dumps([channel.frames_iter_no_tty.__code__.co_filename,"
        " sorted({m.split('.')[0] for m in sys.modules})]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, check=True
    )
    filename, loaded = json.loads(out.stdout)
    assert filename.replace("\\", "/").endswith("docker/utils/socket.py")
    assert not set(loaded) & {"docker", "requests", "urllib3"}, loaded
