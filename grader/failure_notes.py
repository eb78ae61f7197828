"""Say what the submission did when a hidden test failed, never what the test expected.

A failed ``assert`` used to read "assertion failed". The harness now looks at the failing
statement of the hidden test (its syntax tree, in the trusted harness) and at the values pytest
compared, and says which operation of the submission produced which value:

- ``assert cache.get("a") == 1`` fails -> ``get(…) returned 2``;
- ``assert "a" not in cache`` fails -> ```… in …` returned True``;
- ``with pytest.raises(ValueError): LRUCache(0)`` fails -> ``LRUCache(…) raised no exception``;
- an exception the submission raised -> ``put(…) raised KeyError: 'k'``.

The rule that keeps expected values out: a comparison is described only when one side is a
constant (a literal, ``list(range(3))``, an ``UPPER_CASE`` name, ``subject.State.OPEN``...) and
the other is not; only the other side's value is shown, and the constant side is never read.
When both sides are computed, nothing is said beyond the fallback. Arguments are never shown
(they are the hidden test's source): an operation is its name, ``get(…)``. Values are the
submission's own answers or what trusted code observed of it, cut to a short repr. The public
report shows the message only at visibility ``hints`` (:mod:`grader.public`).
"""

from __future__ import annotations

import ast
import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader.caps import MESSAGE_LIMIT

#: Calls of these builtins with constant arguments are constants (``list(range(90, 100))``).
_CONSTANT_CALLS = frozenset(
    {"list", "tuple", "set", "frozenset", "dict", "range", "sorted", "reversed", "str", "int"}
    | {"float", "bytes", "bool", "approx"}
)
#: Kit batch helpers whose first argument is the submission's callable.
_BATCH_HELPERS = frozenset({"call_each", "outcomes", "collect_each", "cost"})
#: Longest value repr a message quotes.
_VALUE_LIMIT = 100

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 60
_repr.maxlist = _repr.maxtuple = _repr.maxset = 8
_repr.maxdict = 6


@dataclass(frozen=True)
class Compared:
    """The operands of the comparison pytest explained last (its ``assertrepr`` hook)."""

    op: str
    left: Any
    right: Any


def _value(value: Any) -> str:
    """A short repr; a repr that fails is not the test's problem."""
    try:
        text = _repr.repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _VALUE_LIMIT else text[: _VALUE_LIMIT - 1] + "…"


def _is_constant(node: ast.expr) -> bool:
    """Whether ``node`` is an expected value written into the test, not something computed."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left) and _is_constant(node.right)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_is_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_constant(k) for k in node.keys) and all(
            _is_constant(v) for v in node.values
        )
    if isinstance(node, ast.Attribute):  # subject.State.OPEN: a member the statement names
        root: ast.expr = node
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and root.id == "subject"
    if isinstance(node, ast.Call):
        name = _called_name(node)
        arguments = [*node.args, *(k.value for k in node.keywords)]
        return name in _CONSTANT_CALLS and all(_is_constant(a) for a in arguments)
    return False


def _called_name(call: ast.Call) -> str | None:
    """``get`` for ``cache.get(...)``, ``len`` for ``len(...)``; ``None`` for anything else."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _operation(node: ast.expr, local: frozenset[str]) -> tuple[str, str] | None:
    """``(words, verb)`` naming what ``node`` did, e.g. ``("get(…)", "returned")``; ``None``
    for a call of one of the test module's own functions (``local``: their names are the hidden
    test's source, not the submission's interface)."""
    if isinstance(node, ast.Call):
        name = _called_name(node)
        if name is None or (isinstance(node.func, ast.Name) and name in local):
            return None
        if name in _BATCH_HELPERS and node.args and not isinstance(node.args[0], ast.Lambda):
            inner = node.args[0]
            if isinstance(inner, ast.Attribute | ast.Name):
                label = inner.attr if isinstance(inner, ast.Attribute) else inner.id
                return f"{label}(…) in a batch", "returned"
        bare = not node.args and not node.keywords
        return f"{name}()" if bare else f"{name}(…)", "returned"
    if isinstance(node, ast.Attribute):
        return f"`{node.attr}`", "was"
    return None


def _describe_compare(
    test: ast.Compare, compared: Compared | None, local: frozenset[str]
) -> str | None:
    """What one failed comparison's computed side was."""
    if len(test.ops) != 1:
        return None
    left, right, op = test.left, test.comparators[0], test.ops[0]
    if isinstance(op, ast.In | ast.NotIn) and _is_constant(left) and not _is_constant(right):
        return f"`… in …` returned {isinstance(op, ast.NotIn)}"
    if compared is None or _is_constant(left) == _is_constant(right):
        return None
    side, value = (right, compared.right) if _is_constant(left) else (left, compared.left)
    named = _operation(side, local)
    if named is None:
        return f"the value checked was {_value(value)}"
    words, verb = named
    return f"{words} {verb} {_value(value)}"


def _describe_assert(
    node: ast.Assert, compared: Compared | None, local: frozenset[str]
) -> str | None:
    """What a failed ``assert`` saw of the submission."""
    test, truth = node.test, "false"
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, truth = test.operand, "true"
    if isinstance(test, ast.Compare):
        return _describe_compare(test, compared, local) if truth == "false" else None
    named = _operation(test, local)
    return f"{named[0]} {named[1]} a {truth} value" if named else None


def _raises_body(node: ast.With) -> ast.stmt | None:
    """The statement under ``with pytest.raises(...)``, if ``node`` is one."""
    for item in node.items:
        call = item.context_expr
        if isinstance(call, ast.Call) and _called_name(call) == "raises":
            return node.body[-1] if node.body else None
    return None


def _statement_operation(statement: ast.stmt, local: frozenset[str]) -> tuple[str, str] | None:
    """The operation a simple statement performs (``cache.put(...)``, ``x = f(...)``)."""
    if isinstance(statement, ast.With):
        body = _raises_body(statement)
        return _statement_operation(body, local) if body is not None else None
    if isinstance(statement, ast.Expr | ast.Assign | ast.AnnAssign | ast.AugAssign):
        value = statement.value
        return _operation(value, local) if isinstance(value, ast.Call) else None
    if isinstance(statement, ast.Assert) and isinstance(statement.test, ast.Compare):
        sides = [statement.test.left, *statement.test.comparators]
        calls = [s for s in sides if isinstance(s, ast.Call) and not _is_constant(s)]
        return _operation(calls[0], local) if len(calls) == 1 else None
    return None


_trees: dict[tuple[str, float], ast.Module] = {}


def _tree(path: Path) -> ast.Module:
    """The test module's syntax tree (parsed once per version of the file)."""
    key = (str(path), path.stat().st_mtime)
    if key not in _trees:
        _trees[key] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return _trees[key]


def _statements_at(tree: ast.Module, line: int) -> list[ast.stmt]:
    """The statements of ``tree`` that hold 1-based ``line``, outermost first."""
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    return sorted(found, key=lambda node: (node.lineno, -(node.end_lineno or node.lineno)))


def _own_functions(tree: ast.Module) -> frozenset[str]:
    """The names of the functions and classes the test module defines."""
    kinds = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    return frozenset(node.name for node in ast.walk(tree) if isinstance(node, kinds))


def _failing_line(excinfo: pytest.ExceptionInfo[BaseException], test_file: Path) -> int | None:
    """The 1-based line of the test module where the failure surfaced (the last frame there)."""
    line = None
    for entry in excinfo.traceback:
        if Path(entry.path) == test_file:
            line = entry.lineno + 1
    return line


def describe_failure(
    excinfo: pytest.ExceptionInfo[BaseException],
    test_file: Path,
    kind: str,
    message: str,
    compared: Compared | None = None,
) -> str:
    """The candidate-safe message of a failure that :func:`classify_failure` called ``kind``
    with ``message``: what the submission did, where the failing statement allows saying it;
    else ``message`` unchanged. Never raises."""
    try:
        said = _describe(excinfo, test_file, kind, message, compared)
    except Exception:  # a description is a courtesy; the verdict does not depend on it
        said = None
    if not said:
        return message
    return said if len(said) <= MESSAGE_LIMIT else said[: MESSAGE_LIMIT - 1] + "…"


def _describe(
    excinfo: pytest.ExceptionInfo[BaseException],
    test_file: Path,
    kind: str,
    message: str,
    compared: Compared | None,
) -> str | None:
    line = _failing_line(excinfo, test_file)
    tree = _tree(test_file)
    statements = _statements_at(tree, line) if line is not None else []
    if not statements:
        return None
    innermost, local = statements[-1], _own_functions(tree)
    if kind == "exception":
        named = _statement_operation(innermost, local)
        return f"{named[0]} raised {message}" if named else None
    if kind != "assertion":
        return None
    if isinstance(innermost, ast.Assert):
        return _describe_assert(innermost, compared, local)
    # pytest.raises reports at the ``with`` line, when the block ends.
    raising = [
        s for s in statements if isinstance(s, ast.With) and s.lineno == line and _raises_body(s)
    ]
    if not raising:
        return None
    named = _statement_operation(raising[-1], local)
    if named is None:
        return None
    raised = excinfo.value.__context__
    if isinstance(excinfo.value, pytest.fail.Exception) or raised is None:
        return f"{named[0]} raised no exception"
    # pytest.raises(match=...) saw the right type with another message: the message is the
    # submission's own; the pattern it was matched against is never shown.
    text = str(raised).strip().replace("\n", " ")[:_VALUE_LIMIT]
    return f"{named[0]} raised {type(raised).__name__}" + (f": {text}" if text else "")
