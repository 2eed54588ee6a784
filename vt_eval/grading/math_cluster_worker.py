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
from math_verify import parse

logging.getLogger("math_verify").setLevel(logging.CRITICAL)


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
    """The canonical form of `answer`, or None when it does not parse as math."""
    parsed = parse(f"${answer}$", parsing_timeout=None)
    for expr in parsed:
        if not isinstance(expr, str):
            return "math:" + _canonical_expr(expr)
    return None
