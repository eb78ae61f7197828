"""The files of the subject server that are shipped into the sandbox, with their bytecode.

The server is stdlib-only Python copied into each sandbox. A sandbox's interpreter cannot
write bytecode (it runs with ``-B`` on a fresh work directory), so it compiled the server's
modules on every start: about 15 ms of CPU per subject, spent while the harness imports
pytest on the same cores. The bytecode is compiled here instead, as hash-checked ``.pyc``
files beside the sources: an interpreter of the same version checks each against its
source's hash and uses it; any other version ignores it and compiles the source as before.
A harness process with a bytecode cache (``grader.harness.launch.bytecode_dir``) keeps them
there, so that a grading does not spend 10 ms compiling them before its sandboxes can start.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import marshal
import os
import sys
from pathlib import Path

from sandbox import polling

_GRADER_ROOT = Path(__file__).resolve().parents[1]
#: The stdlib-only files the subject server needs, by their path in the sandbox.
_SOURCES = {
    "grader/bridge/__init__.py": _GRADER_ROOT / "bridge" / "__init__.py",
    "grader/bridge/wire.py": _GRADER_ROOT / "bridge" / "wire.py",
    "grader/bridge/batches.py": _GRADER_ROOT / "bridge" / "batches.py",
    "grader/bridge/protocol.py": _GRADER_ROOT / "bridge" / "protocol.py",
    "grader/bridge/server_channel.py": _GRADER_ROOT / "bridge" / "server_channel.py",
    "grader/bridge/stand_ins.py": _GRADER_ROOT / "bridge" / "stand_ins.py",
    "grader/bridge/subject_server.py": _GRADER_ROOT / "bridge" / "subject_server.py",
    "sandbox/polling.py": Path(polling.__file__),
}
#: Hash-based bytecode whose source the importer checks (PEP 552 flags).
_CHECKED_HASH = 0b11


def bytecode_path(path: str) -> str:
    """Where an interpreter of this version looks for the bytecode of the source ``path``."""
    folder, _, name = path.rpartition("/")
    tag = sys.implementation.cache_tag
    return f"{folder}/__pycache__/{name.removesuffix('.py')}.{tag}.pyc"


def hash_checked_pyc(source: bytes, path: str) -> bytes:
    """The bytecode of ``source`` as a hash-checked ``.pyc`` file."""
    code = compile(source, path, "exec", dont_inherit=True)
    header = importlib.util.MAGIC_NUMBER + _CHECKED_HASH.to_bytes(4, "little")
    return header + importlib.util.source_hash(source) + marshal.dumps(code)


def cached_pyc(source: bytes, path: str) -> bytes:
    """``hash_checked_pyc(source, path)``, from this process's bytecode cache when it has one
    (``sys.pycache_prefix``, where writing is allowed), and put there when it was not."""
    prefix = sys.pycache_prefix
    if not prefix or sys.dont_write_bytecode:
        return hash_checked_pyc(source, path)
    key = importlib.util.source_hash(source).hex()
    name = f"{path.replace('/', '.')}.{key}.{sys.implementation.cache_tag}.pyc"
    cached = Path(prefix) / "grader-subject-server" / name
    with contextlib.suppress(OSError):
        data = cached.read_bytes()
        if data[:4] == importlib.util.MAGIC_NUMBER and data[8:16] == bytes.fromhex(key):
            return data
    data = hash_checked_pyc(source, path)
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, cached)  # whole or absent, for processes reading it at once
    return data


@functools.cache
def server_files() -> dict[str, bytes]:
    """Every file of the subject server by its path in the sandbox, bytecode included;
    the packages' ``__init__`` files are empty there (``sandbox`` is only the poller)."""
    files = {"grader/__init__.py": b"", "sandbox/__init__.py": b""}
    for path, origin in _SOURCES.items():
        source = origin.read_bytes()
        files[path] = source
        files[bytecode_path(path)] = cached_pyc(source, path)
    return files
