"""Runs inside a grading worker process: math-verify on one (gold, answer) pair.

math-verify's own signal timeouts are disabled (they are unsafe in threads and do not stop every
hang); the pool kills this process instead when it runs too long.
"""

from __future__ import annotations

import logging
import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy
from math_verify import parse, verify

from vt_eval.grading import math_forms as forms

logging.getLogger("math_verify").setLevel(logging.CRITICAL)

_DECIMAL = re.compile(r"-?\d*\.\d+")


@lru_cache(maxsize=4096)
def parse_gold(gold: str) -> list[Any]:
    # Bare parse() misreads ~1 in 6 golds (8\sqrt{10} -> 8); math mode fixes them (GRADING-NOTES).
    return parse(f"${gold}$", parsing_timeout=None)


def _exact_value(expr: Any) -> Fraction | None:
    if isinstance(expr, sympy.Rational):
        return Fraction(int(expr.p), int(expr.q))
    return None


def _gold_value(gold: str, gold_parsed: list[Any]) -> Fraction | None:
    """The gold's exact value when it is a number: a rational, or a terminating decimal as
    written (37.50 is exactly 75/2, not an approximation of anything)."""
    compact = gold.replace(" ", "").replace("{,}", "")
    if _DECIMAL.fullmatch(compact) and len(compact) <= forms.MAX_LITERAL:
        return Fraction(compact)
    return _exact_value(gold_parsed[0]) if gold_parsed else None


def _decimal_policy(gold: str, gold_parsed: list[Any], answer: str, value: Any) -> str | None:
    """Exact answers are required: a decimal that only approximates the gold is wrong; one equal
    to the gold's exact value is right. `value` is the answer's parsed value (an equation's right
    side), so `x = 0.001736` counts."""
    compact = answer.replace(" ", "")
    if _DECIMAL.fullmatch(compact) and len(compact) > forms.MAX_LITERAL:
        return f"decimal of more than {forms.MAX_LITERAL} digits (policy: exact answers required)"
    written = Fraction(compact) if _DECIMAL.fullmatch(compact) else forms.decimal_value(value)
    if written is None:
        return None
    exact = _gold_value(gold, gold_parsed)
    if exact is not None and written == exact:
        return None
    return "decimal approximation of an exact answer (policy: exact answers required)"


def _comparable(gold_parsed: list[Any], answer_parsed: list[Any]) -> \
        tuple[list[Any], list[Any], str | None]:
    """Both sides as math-verify should compare them, or a reason the answer is incorrect as is."""
    gold, answer = gold_parsed[0], answer_parsed[0]
    why = forms.too_large(answer, gold)
    if why:
        return gold_parsed, answer_parsed, why
    if not forms.has_equation(gold):  # an equation gold is compared as an equation
        answer, why = forms.read_equation(answer)
        if why:
            return gold_parsed, answer_parsed, why
    elif not forms.has_equation(answer):  # x_1 = a, x_2 = b answered as a, b: compare values
        values, why = forms.read_equation(gold)
        if not why:
            gold = values
    if forms.reads_i_as_unit(gold):
        gold, answer = forms.with_imaginary_unit(gold), forms.with_imaginary_unit(answer)
    return [gold, *gold_parsed[1:]], [answer, *answer_parsed[1:]], None


def _is_collection(expr: Any) -> bool:
    return isinstance(expr, (sympy.FiniteSet, sympy.Tuple, sympy.And, list, tuple, set))


def grade_pair(payload: tuple[str, str | tuple[str, ...]]) -> tuple[str, str, bool]:
    """(gold, answer) -> (verdict, explanation, answer_parsed). A tuple answer holds several
    different boxes read together: one answer for a gold that is a list, set or system, else
    incorrect."""
    gold, answer = payload
    gold_parsed = parse_gold(gold)
    if not gold_parsed:
        return "grader_error", f"gold answer {gold!r} could not be parsed", False
    if all(isinstance(g, str) for g in gold_parsed):
        return "needs_judge", "gold answer parses only as text: needs an LLM judge", False
    if isinstance(answer, tuple):
        if not _is_collection(gold_parsed[0]):
            return "incorrect", (f"{len(answer)} different boxed answers for a single-value gold "
                                 f"({', '.join(answer)[:80]})"), False
        answer = ", ".join(answer)
    answer = forms.rewrite_answer(answer, gold)
    answer_parsed = forms.parse_answer(answer)
    if not answer_parsed:
        same = _loose_text(answer) == _loose_text(gold)
        verdict = "correct" if same else "incorrect"
        return verdict, "answer is not parseable math; compared as text: " + \
            ("same" if same else "different"), False
    gold_cmp, answer_cmp, why = _comparable(gold_parsed, answer_parsed)
    if why:
        return "incorrect", why, True
    if not verify(gold_cmp, answer_cmp, timeout_seconds=None):
        if (number := _percent_as_unit(answer, gold)) is not None:
            verdict, explanation, parsed = grade_pair((gold, number))
            if verdict == "correct":
                return verdict, f"{explanation} (a percent sign read as the unit of a gold " \
                                f"written without it)", parsed
        return "incorrect", f"math-verify: {answer_parsed[-1]!s} != {gold_parsed[-1]!s}", True
    policy = _decimal_policy(gold, gold_parsed, answer, answer_cmp[0])
    if policy:
        return "incorrect", policy, True
    return "correct", f"math-verify: {answer_parsed[-1]!s} == {gold_parsed[-1]!s}", True


_PERCENT = re.compile(r"\s*\\?%\s*$")


def _percent_as_unit(answer: str, gold: str) -> str | None:
    """`40\\%` -> `40` when the gold has no percent sign (the question asked for a number of
    percent: 40% answers "what percent"); math-verify reads 40% as 0.4 only."""
    if "%" in gold or not _PERCENT.search(answer) or len(answer) > 200:
        return None
    number = _PERCENT.sub("", answer)
    return number if number.strip() and "%" not in number else None


def _loose_text(text: str) -> str:
    return re.sub(r"[\s$]", "", text).lower()
