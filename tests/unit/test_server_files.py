"""The subject server's files as shipped into a sandbox: an interpreter of this version runs
with ``-I -S -B`` (as in the sandbox) and takes its modules from the shipped bytecode; a
source changed after the bytecode was made is compiled afresh."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.bridge import server_files as shipped
from grader.bridge.server_files import bytecode_path, server_files


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def verbose_import(root: Path, module: str) -> str:
    """What ``python -v`` says while importing ``module`` from ``root`` in sandbox mode."""
    code = f"import sys; sys.path[:0] = [{str(root)!r}]; import {module}"
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-v", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stderr


def test_every_shipped_module_is_loaded_from_its_bytecode(tmp_path: Path) -> None:
    files = server_files()
    write_tree(tmp_path, files)
    log = verbose_import(tmp_path, "grader.bridge.subject_server")
    sources = [name for name in files if name.endswith(".py") and files[name]]
    assert sources
    for name in sources:
        assert bytecode_path(name) in files
        assert f"code object from '{tmp_path / bytecode_path(name)}'" in log, name


def test_the_server_starts_without_modules_it_only_needs_for_types_or_rarely(
    tmp_path: Path,
) -> None:
    """Every sandbox imports the server before the submission: ``typing`` (3 ms), ``contextlib``
    and ``sysconfig`` (a millisecond each) stay out of that start, as ``dataclasses`` and
    ``traceback`` do."""
    write_tree(tmp_path, server_files())
    code = (
        f"import sys; sys.path[:0] = [{str(tmp_path)!r}]; import grader.bridge.subject_server; "
        "print(sorted({'typing', 'contextlib', 'sysconfig', 'dataclasses', 'traceback'} "
        "& set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_a_source_that_does_not_match_its_bytecode_is_compiled_afresh(tmp_path: Path) -> None:
    files = dict(server_files())
    files["grader/bridge/wire.py"] += b"\nEDITED_AFTER = True\n"
    write_tree(tmp_path, files)
    code = (
        f"import sys; sys.path[:0] = [{str(tmp_path)!r}]; import grader.bridge.wire as w; "
        "print(w.EDITED_AFTER)"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "True"


def test_a_harness_with_a_bytecode_cache_compiles_the_server_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    source, path = b"VALUE = 1\n", "grader/bridge/example.py"
    first = shipped.cached_pyc(source, path)
    assert first == shipped.hash_checked_pyc(source, path)
    assert len(list(tmp_path.rglob("*.pyc"))) == 1

    def no_compiling(*args: object) -> bytes:
        raise AssertionError("compiled again")

    monkeypatch.setattr(shipped, "hash_checked_pyc", no_compiling)
    assert shipped.cached_pyc(source, path) == first  # read back, not compiled
    with pytest.raises(AssertionError, match="compiled again"):
        shipped.cached_pyc(b"VALUE = 2\n", path)  # another source: its own entry
