"""Check the files of a submission before it is stored: names, count and encoding.

Only the exercise's module is accepted. Anything else could change how the hidden suite runs
(``conftest.py``, ``pytest.ini``, ``sitecustomize.py``) or escape the staging folder (paths,
``..``), so it is refused with ``422`` naming the file and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping

from api.errors import ApiError

#: More files than this is refused before any name is looked at.
MAX_FILES = 16

#: Names that configure Python or pytest when they sit next to the tests.
RESERVED_NAMES = frozenset(
    {
        "conftest.py",
        "pytest.ini",
        "pyproject.toml",
        "setup.cfg",
        "tox.ini",
        "sitecustomize.py",
        "usercustomize.py",
        "__init__.py",
        "__main__.py",
    }
)


def name_problem(name: str, module: str) -> str:
    """Why ``name`` cannot be submitted for an exercise whose module is ``module``, or ``""``."""
    if not name:
        return "the file name is empty"
    if "/" in name or "\\" in name:
        return "paths are not accepted; send the bare file name"
    if ".." in name:
        return "'..' is not accepted in a file name"
    if name.startswith("."):
        return "hidden files (dotfiles) are not accepted"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "control characters are not accepted in a file name"
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        return "the file name is not valid Unicode (a lone surrogate)"
    if name.lower() in RESERVED_NAMES:
        return "this file would configure the test run and is not accepted"
    if name != module:
        return f"only the exercise's module, {module}, is accepted"
    return ""


def check_files(files: Mapping[str, str | bytes], module: str) -> dict[str, str]:
    """The submission as ``{name: text}``; ``ApiError(422)`` naming the first problem."""
    if len(files) > MAX_FILES:
        raise ApiError(
            422,
            "too_many_files",
            f"{len(files)} files sent; at most {MAX_FILES}, and only {module} is graded",
            {"count": len(files), "limit": MAX_FILES},
        )
    bad = [
        {"name": name, "problem": problem}
        for name in files
        if (problem := name_problem(name, module))
    ]
    if bad:
        first = bad[0]
        raise ApiError(422, "bad_file_name", f"{first['name']!r}: {first['problem']}", bad)
    if module not in files:
        raise ApiError(422, "missing_module", f"no {module} in the submission", {"module": module})
    return {name: _as_text(name, content) for name, content in files.items()}


def _as_text(name: str, content: str | bytes) -> str:
    """``content`` as text, or ``ApiError(422)`` if it is not valid UTF-8."""
    try:
        if isinstance(content, bytes):
            return content.decode("utf-8")
        content.encode("utf-8")  # a JSON string may carry lone surrogates ("\ud800")
        return content
    except UnicodeError as exc:
        where = exc.start if isinstance(exc, UnicodeDecodeError | UnicodeEncodeError) else 0
        raise ApiError(
            422,
            "not_utf8",
            f"{name} is not valid UTF-8 text (at position {where})",
            {"name": name, "position": where},
        ) from exc
