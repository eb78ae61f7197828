"""Walk a module's AST in source order and offer each node to the operators that apply.

Skipped: bare constants (docstrings, ``...``), annotations, decorators, f-strings and imports;
statements are deleted and returns mutated only inside functions. Each site knows the
qualified name of the function (or class, or ``<module>``) it is in.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from grader.mutation import operators as ops
from grader.mutation.text import Edit, SourceText

#: Simple statements that ``stmt`` replaces by ``pass``. Returns are left to ``return``,
#: definitions and imports are never deleted (their removal only breaks loading).
_DELETABLE = (
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Expr,
    ast.Raise,
    ast.Assert,
    ast.Delete,
    ast.Break,
    ast.Continue,
)
_NOTHING_TO_MUTATE = (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Pass)


@dataclass(frozen=True)
class Site:
    """One mutation of the module: which operator, where, and the text edits it makes."""

    operator: str
    function: str
    description: str
    edits: tuple[Edit, ...]


class _Finder:
    """Collects the sites of one module in a fixed (source) order."""

    def __init__(self, src: SourceText) -> None:
        self.src = src
        self.sites: list[Site] = []
        self._scope: list[str] = []
        self._returns_bool: list[bool] = []  # one per enclosing function

    def _add(self, operator: str, mutations: ops.Mutations) -> None:
        """Record each mutation as a site of the current scope."""
        function = ".".join(self._scope) or "<module>"
        for description, edits in mutations:
            self.sites.append(Site(operator, function, description, edits))

    def body(self, statements: list[ast.stmt]) -> None:
        """Visit a block of statements."""
        for statement in statements:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        """Visit one statement: its own mutations, then what it holds."""
        if isinstance(node, _NOTHING_TO_MUTATE) or _is_bare_constant(node):
            return
        if isinstance(node, ast.AnnAssign) and node.value is None:
            return  # a declaration: nothing runs
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self._function(node)
            return
        if isinstance(node, ast.ClassDef):
            self._scope.append(node.name)
            self.body(node.body)
            self._scope.pop()
            return
        in_function = bool(self._returns_bool)
        if in_function and isinstance(node, _DELETABLE):
            self._add("stmt", ops.statement(node, self.src))
        if in_function and isinstance(node, ast.Return):
            self._add("return", ops.returned(node, self.src, self._returns_bool[-1]))
        if in_function and isinstance(node, ast.With | ast.AsyncWith):
            self._add("lock", ops.unlock(node, self.src))
        if isinstance(node, ast.AugAssign):
            self._add("arith", ops.arithmetic(node, self.src))
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                self.expression(target)
            self.expression(node.value, assigned=True)
            return
        self._children(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """Visit a function's defaults and body under its own name."""
        self._scope.append(node.name)
        self._returns_bool.append(node.returns is not None and ast.unparse(node.returns) == "bool")
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.expression(default)
        self.body(node.body)
        self._returns_bool.pop()
        self._scope.pop()

    def _children(self, node: ast.AST) -> None:
        """Visit the statements and expressions directly under ``node``."""
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                self.statement(child)
            elif isinstance(child, ast.expr):
                self.expression(child)
            elif not isinstance(child, ast.arg):  # handlers, items, keywords, comprehensions
                self._children(child)

    def expression(self, node: ast.expr, assigned: bool = False) -> None:
        """Visit an expression: its own mutations first, then its parts."""
        if isinstance(node, ast.JoinedStr):
            return
        if isinstance(node, ast.Compare):
            self._add("cmp", ops.compare(node, self.src))
        elif isinstance(node, ast.BinOp):
            self._add("arith", ops.arithmetic(node, self.src))
        elif isinstance(node, ast.BoolOp):
            self._add("bool", ops.boolean(node, self.src))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self._add("bool", ops.negation(node, self.src))
        elif isinstance(node, ast.Constant):
            self._add("const", ops.constant(node, self.src, assigned))
        self._children(node)


def _is_bare_constant(node: ast.stmt) -> bool:
    """Whether ``node`` is a bare constant: a docstring, a comment-like string, ``...``."""
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def find_sites(tree: ast.Module, src: SourceText) -> list[Site]:
    """Every mutation of the module, in source order."""
    finder = _Finder(src)
    finder.body(tree.body)
    return finder.sites
