"""Runs inside a grading worker process: a canonical form of one math answer, for clustering.

Two answers with the same canonical form are the same vote in maj@k and CLR: `1/2`, `0.5` and
`\\frac{1}{2}` all become `1/2`. Parsing is math-verify's (math mode, like the golds); numbers are
made exact (`nsimplify`), other expressions simplified. Untrusted text, so only ever called in the
pool, under its hard timeout.
"""

from __future__ import annotations

import logging
from typing import Any

import sympy
from vt_eval.grading.math_forms import digit_bound, parse_answer, rewrite_answer
from vt_eval.grading.math_verify_worker import grade_pair

logging.getLogger("math_verify").setLevel(logging.CRITICAL)
MAX_DIGITS = 10_000  # beyond this, exact evaluation could take the whole timeout


def _canonical_expr(expr: Any) -> str:
    if isinstance(expr, (sympy.FiniteSet, set, frozenset)):
        parts = sorted(_canonical_expr(e) for e in expr)
        return "{" + ", ".join(parts) + "}"
    if isinstance(expr, (tuple, list)):
        return "(" + ", ".join(_canonical_expr(e) for e in expr) + ")"
    if isinstance(expr, sympy.Basic) and expr.is_number:
        return str(sympy.nsimplify(expr, rational=True))
    if isinstance(expr, sympy.Basic):
        return str(sympy.simplify(expr))
    return str(expr)


def canonical_answer(answer: str) -> str | None:
    """The canonical form of `answer`, or None when it does not parse as math. The answer is read
    as the grader reads it (repeating decimals, a trailing `\\pmod`), and one too large to
    evaluate is clustered by its text instead of being evaluated."""
    parsed = parse_answer(rewrite_answer(answer))
    for expr in parsed:
        if isinstance(expr, str):
            continue
        if digit_bound(expr) > MAX_DIGITS:
            return "text:" + " ".join(answer.split())
        return "math:" + _canonical_expr(expr)
    return None


def grade_and_cluster(payload: tuple[str, str | tuple[str, ...]]) -> \
        tuple[str, str, bool, str | None]:
    """grade_pair plus the answer's canonical form when it is not correct: one round trip, and
    the answer parsed once (cached), where a separate clustering pass would cost a second.
    Several boxes read together cluster as their list."""
    verdict, explanation, parsed = grade_pair(payload)
    answer = payload[1] if isinstance(payload[1], str) else ", ".join(payload[1])
    return verdict, explanation, parsed, None if verdict == "correct" else canonical_answer(answer)
