"""Find and check a submitted module before any of it runs: bad submissions become messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The largest module the grader accepts.
MAX_SOURCE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Submission:
    """A submitted module's source, or the reason it cannot be graded."""

    source: bytes = b""
    problem: str = ""


def _check_source(source: bytes, filename: str) -> str:
    """A sentence saying why ``source`` cannot be graded, or an empty string."""
    if not source.strip():
        return f"{filename} is empty"
    if len(source) > MAX_SOURCE_BYTES:
        return f"{filename} is larger than {MAX_SOURCE_BYTES // 1024} KiB"
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"{filename} is not UTF-8 text (byte {exc.start})"
    if "\x00" in text:  # compile's own message has no line ("at line None")
        line = text.count("\n", 0, text.index("\x00")) + 1
        return f"{filename} cannot be compiled: a NUL character at line {line}"
    try:
        compile(text, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        return f"syntax error in {filename} at {where}: {exc.msg}"
    except ValueError as exc:  # e.g. NUL bytes in the source
        return f"{filename} cannot be compiled: {exc}"
    return ""


def from_text(source: bytes, module_file: str) -> Submission:
    """A submission given as bytes (e.g. over HTTP)."""
    return Submission(source=source, problem=_check_source(source, module_file))


def from_path(path: Path, module_file: str) -> Submission:
    """A submission given as the module file itself or a folder holding it."""
    if path.is_dir():
        candidate = path / module_file
        if not candidate.is_file():
            others = sorted(p.name for p in path.glob("*.py"))
            found = f"; found {', '.join(others)}" if others else ""
            return Submission(problem=f"no {module_file} in {path}{found}")
        path = candidate
    elif not path.exists():
        return Submission(problem=f"no such file or folder: {path}")
    elif path.name != module_file:
        return Submission(problem=f"the submission must be named {module_file}, not {path.name}")
    source = path.read_bytes()
    return Submission(source=source, problem=_check_source(source, module_file))
