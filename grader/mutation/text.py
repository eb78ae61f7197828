"""A module's text seen by the mutator: AST locations as character offsets, its tokens, and
text edits, so that a mutant differs from the reference only where it was mutated."""

from __future__ import annotations

import ast
import bisect
import io
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass

#: Token kinds that never hold an operator or an operand.
_LAYOUT = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


#: AST nodes that have a location.
Located = ast.expr | ast.stmt


@dataclass(frozen=True)
class Token:
    """One significant token and its span, as character offsets into the module text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Edit:
    """Replace the characters ``start:end`` of the module text by ``text``."""

    start: int
    end: int
    text: str


class SourceText:
    """The text of one module, with offsets for AST nodes and a token index."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines = text.split("\n")
        self._starts: list[int] = []
        at = 0
        for line in self._lines:
            self._starts.append(at)
            at += len(line) + 1
        self.tokens = [
            Token(tok.string, self._at(*tok.start), self._at(*tok.end))
            for tok in tokenize.generate_tokens(io.StringIO(text).readline)
            if tok.type not in _LAYOUT
        ]
        self._token_starts = [t.start for t in self.tokens]

    def _at(self, row: int, col: int) -> int:
        """The offset of a tokenizer position (1-based row, column in characters)."""
        return self._starts[row - 1] + col

    def _offset(self, line: int, col_bytes: int) -> int:
        """The offset of an AST position (1-based line, column in UTF-8 bytes)."""
        prefix = self._lines[line - 1].encode("utf-8")[:col_bytes]
        return self._starts[line - 1] + len(prefix.decode("utf-8", "replace"))

    def start(self, node: Located) -> int:
        """Where ``node`` starts (without any parentheses around it)."""
        return self._offset(node.lineno, node.col_offset)

    def end(self, node: Located) -> int:
        """Where ``node`` ends (without any parentheses around it)."""
        return self._offset(node.end_lineno or node.lineno, node.end_col_offset or 0)

    def segment(self, node: Located) -> str:
        """The text of ``node``."""
        return self.text[self.start(node) : self.end(node)]

    def line_of(self, offset: int) -> int:
        """The 1-based line holding ``offset``."""
        return bisect.bisect_right(self._starts, offset)

    def column_of(self, offset: int) -> int:
        """The 0-based column of ``offset`` in its line, in characters."""
        return offset - self._starts[self.line_of(offset) - 1]

    def tokens_between(self, start: int, end: int) -> list[Token]:
        """The tokens lying wholly in ``start:end``, parentheses excluded."""
        first = bisect.bisect_left(self._token_starts, start)
        found = []
        for token in self.tokens[first:]:
            if token.end > end:
                break
            if token.text not in ("(", ")"):
                found.append(token)
        return found

    def token_after(self, token: Token) -> Token | None:
        """The significant token that follows ``token``."""
        index = bisect.bisect_left(self._token_starts, token.start) + 1
        return self.tokens[index] if index < len(self.tokens) else None

    def token_at(self, offset: int) -> Token | None:
        """The token starting exactly at ``offset``."""
        index = bisect.bisect_left(self._token_starts, offset)
        if index < len(self.tokens) and self.tokens[index].start == offset:
            return self.tokens[index]
        return None


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """``text`` with non-overlapping ``edits`` applied."""
    parts, done = [], 0
    for edit in sorted(edits, key=lambda e: e.start):
        parts += [text[done : edit.start], edit.text]
        done = edit.end
    return "".join([*parts, text[done:]])
