"""The mutation operators: what each one changes, as text edits of one AST node.

Each function takes a node and the module text and returns the node's mutations as
``(description, edits)`` pairs, in a fixed order. Which nodes are offered to which operator
(and which are skipped: docstrings, annotations, f-strings) is decided in ``sites``.
"""

from __future__ import annotations

import ast
import re

from grader.mutation.text import Edit, SourceText

#: Every operator's name (the first part of a mutant id) and what it does.
OPERATORS: dict[str, str] = {
    "cmp": "a comparison operator swapped (boundary and negation; is/is not, in/not in)",
    "arith": "an arithmetic operator swapped, also in augmented assignments",
    "const": "a constant changed: number n to n+1, n-1 and 0, True/False flipped, "
    "a number assigned replaced by None",
    "bool": "and/or swapped, or a `not` dropped",
    "stmt": "a statement in a function replaced by `pass`",
    "lock": "a lock-like context manager removed (its body runs unguarded)",
    "return": "a returned value replaced by None, or negated in a function returning bool",
}

#: The spelling of each comparison operator, and what each one becomes.
_CMP_TEXT: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}
_CMP_SWAPS: dict[str, tuple[str, ...]] = {
    "<": ("<=", ">="),
    "<=": ("<", ">"),
    ">": (">=", "<="),
    ">=": (">", "<"),
    "==": ("!=",),
    "!=": ("==",),
    "is": ("is not",),
    "is not": ("is",),
    "in": ("not in",),
    "not in": ("in",),
}

#: Arithmetic swaps stay within one precedence level, so swapping the text swaps the AST.
_ARITH_TEXT: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
}
_ARITH_SWAPS: dict[str, tuple[str, ...]] = {
    "+": ("-",),
    "-": ("+",),
    "*": ("/",),
    "/": ("*", "//"),
    "//": ("/", "*"),
    "%": ("//",),
}

#: Words that make a context manager's expression lock-like (``self._lock``, ``self._cond``).
_LOCK_WORDS = {"lock", "rlock", "mutex", "cond", "condition", "cv", "sem", "semaphore"}

Mutations = list[tuple[str, tuple[Edit, ...]]]


def _swap(
    spelled: str, swaps: tuple[str, ...], start: int, end: int, suffix: str = ""
) -> Mutations:
    """One mutation per replacement of the operator text at ``start:end``."""
    return [
        (f"`{spelled}{suffix}` -> `{new}{suffix}`", (Edit(start, end, new + suffix),))
        for new in swaps
    ]


def compare(node: ast.Compare, src: SourceText) -> Mutations:
    """Swap each operator of a comparison chain."""
    found: Mutations = []
    operands = [node.left, *node.comparators]
    for i, op in enumerate(node.ops):
        tokens = src.tokens_between(src.end(operands[i]), src.start(operands[i + 1]))
        spelled = _CMP_TEXT[type(op)]
        if " ".join(t.text for t in tokens) != spelled:
            continue  # not where the operator was expected: leave it alone
        found += _swap(spelled, _CMP_SWAPS[spelled], tokens[0].start, tokens[-1].end)
    return found


def arithmetic(node: ast.BinOp | ast.AugAssign, src: SourceText) -> Mutations:
    """Swap an arithmetic operator (``a + b`` or ``a += b``)."""
    spelled = _ARITH_TEXT.get(type(node.op))
    if spelled is None:
        return []
    left, right = (
        (node.left, node.right) if isinstance(node, ast.BinOp) else (node.target, node.value)
    )
    tokens = src.tokens_between(src.end(left), src.start(right))
    suffix = "=" if isinstance(node, ast.AugAssign) else ""
    if len(tokens) != 1 or tokens[0].text != spelled + suffix:
        return []
    return _swap(spelled, _ARITH_SWAPS[spelled], tokens[0].start, tokens[0].end, suffix)


def boolean(node: ast.BoolOp, src: SourceText) -> Mutations:
    """Swap each ``and``/``or`` of a boolean expression, one at a time."""
    found: Mutations = []
    for before, after in zip(node.values, node.values[1:], strict=False):
        tokens = src.tokens_between(src.end(before), src.start(after))
        if len(tokens) == 1 and tokens[0].text in ("and", "or"):
            new = "or" if tokens[0].text == "and" else "and"
            found += _swap(tokens[0].text, (new,), tokens[0].start, tokens[0].end)
    return found


def negation(node: ast.UnaryOp, src: SourceText) -> Mutations:
    """Drop the ``not`` of ``not x``."""
    word = src.token_at(src.start(node))
    after = src.token_after(word) if word is not None else None
    if word is None or after is None or word.text != "not":
        return []
    return [("drop `not`", (Edit(word.start, after.start, ""),))]


def constant(node: ast.Constant, src: SourceText, assigned: bool = False) -> Mutations:
    """Change a number or a bool; with ``assigned`` (the whole value of an assignment), also
    replace a number by None."""
    value = node.value
    if isinstance(value, bool):  # None would only repeat False
        news = [repr(not value)]
    elif isinstance(value, int | float):
        kind = type(value)
        news = [repr(kind(v)) for v in (value + 1, value - 1, 0)]
        if assigned:
            news.append("None")
    else:
        return []
    old = src.segment(node)
    start, end = src.start(node), src.end(node)
    unique = [n for i, n in enumerate(news) if n not in news[:i] and n != repr(value)]
    return [(f"`{old}` -> `{new}`", (Edit(start, end, new),)) for new in unique]


def returned(node: ast.Return, src: SourceText, returns_bool: bool) -> Mutations:
    """Return None instead of the value; in a function returning bool, also its negation."""
    value = node.value
    if value is None or (isinstance(value, ast.Constant) and value.value is None):
        return []
    start, end = src.start(value), src.end(value)
    found: Mutations = [
        (f"return None instead of `{_short(src.segment(value))}`", (Edit(start, end, "None"),))
    ]
    boolish = (
        returns_bool
        or isinstance(value, ast.Compare)
        or (isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not))
    )
    if boolish and not isinstance(value, ast.Constant):
        text = f"not ({src.segment(value)})"
        found.append((f"return `{_short(text)}`", (Edit(start, end, text),)))
    return found


def statement(node: ast.stmt, src: SourceText) -> Mutations:
    """Replace a simple statement by ``pass``."""
    return [
        (
            f"`{_short(src.segment(node))}` -> `pass`",
            (Edit(src.start(node), src.end(node), "pass"),),
        )
    ]


def is_lock_like(expr: ast.expr) -> bool:
    """Whether a context manager's expression names a lock (``self._lock``, ``LOCK``)."""
    words = re.split(r"[^a-z0-9]+", ast.unparse(expr).lower())
    return any(word in _LOCK_WORDS for word in words)


def unlock(node: ast.With | ast.AsyncWith, src: SourceText) -> Mutations:
    """Remove each lock-like context manager: the body then runs without it."""
    found: Mutations = []
    items = node.items
    for i, item in enumerate(items):
        if item.optional_vars is not None or not is_lock_like(item.context_expr):
            continue
        what = f"`with {_short(src.segment(item.context_expr))}` removed"
        if len(items) == 1:
            last = item.context_expr
            colon = src.tokens_between(src.end(last), src.start(node.body[0]))
            if colon and colon[0].text == ":":
                found.append((what, (Edit(src.start(node), colon[0].start, "if True"),)))
        elif i + 1 < len(items):
            start, end = src.start(item.context_expr), src.start(items[i + 1].context_expr)
            found.append((what, (Edit(start, end, ""),)))
        else:
            before = items[i - 1]
            prev_end = src.end(before.optional_vars or before.context_expr)
            found.append((what, (Edit(prev_end, src.end(item.context_expr), ""),)))
    return found


def _short(text: str, width: int = 60) -> str:
    """The first line of ``text``, cut to ``width`` characters."""
    lines = text.strip().splitlines() or [""]
    more = len(lines) > 1 or len(lines[0]) > width
    return lines[0][:width] + ("..." if more else "")
