"""The hint lint: every hidden test's hint is one or more complete sentences.

A hint is what a candidate reads when a hidden test fails (its docstring's first paragraph, see
:func:`grader.harness.plugin.first_paragraph`), so it must read as prose: each sentence starts
with a capital letter (or with code in backticks, such as ```get` returns ...``) and ends with
``.``, ``!`` or ``?``. ``grader validate`` runs this lint as one check per exercise; loading an
exercise does not, so a badly worded hint never stops grading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.exercise import Exercise
from grader.grading import suite_tests
from grader.validation import Check

# Sentence ends: . ! or ? (optionally closed by a quote, bracket or backtick) before a space.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]`]*\s+")
_ENDS = (".", "!", "?")
# Abbreviations whose point does not end a sentence.
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.")


@dataclass(frozen=True)
class HintProblem:
    """One hidden test whose hint is not complete sentences, and why."""

    test: str
    reason: str


def _sentences(hint: str) -> list[str]:
    """``hint`` split into sentences at sentence ends (not at ``e.g.`` and friends)."""
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(hint.strip()):
        if pieces and pieces[-1].lower().endswith(_ABBREVIATIONS):
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return [p for p in pieces if p]


def _starts_well(sentence: str) -> bool:
    """A capital letter, a digit, or code in backticks opens the sentence."""
    first = sentence.lstrip("\"'(")[:1]
    return first.isupper() or first.isdigit() or first == "`"


def hint_problem(hint: str) -> str | None:
    """Why ``hint`` is not one or more complete sentences, or ``None`` when it is."""
    text = " ".join(hint.split())
    if not text:
        return "no hint (the test has no docstring)"
    if not text.rstrip("\"')]`").endswith(_ENDS):
        return "does not end with . ! or ?"
    for sentence in _sentences(text):
        if not _starts_well(sentence):
            return f"a sentence does not start with a capital letter: {sentence[:40]!r}"
    return None


def lint_hints(exercise: Exercise) -> list[HintProblem]:
    """The hidden tests of ``exercise`` whose hints are not complete sentences, in suite order
    (parametrised tests share a docstring, so each name is reported once)."""
    problems: list[HintProblem] = []
    seen: set[str] = set()
    for test in suite_tests(exercise):
        base = test.name.split("[", 1)[0]
        reason = hint_problem(test.hint)
        if reason and base not in seen:
            seen.add(base)
            problems.append(HintProblem(base, reason))
    return problems


def hint_check(exercise: Exercise) -> Check:
    """The lint as one ``grader validate`` check: ok, or the first offenders and why."""
    problems = lint_hints(exercise)
    shown = "; ".join(f"{p.test}: {p.reason}" for p in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    result = f"{len(problems)} not: {shown}{more}" if problems else "all are"
    return Check(exercise.slug, "hints", "complete sentences", result, not problems)
