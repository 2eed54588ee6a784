"""Answer forms math-verify does not read the way a mathematician does, fixed around it.

Runs inside the grading worker only (the sympy helpers look at parsed, untrusted expressions;
the string rewrites are plain regex substitutions and never evaluate anything).

- repeating decimals are exact values: `0.\\overline{4}` is 4/9, `0.1\\overline{6}` is 1/6;
- a trailing congruence annotation is not part of the value: `77 \\pmod{1000}` is 77;
- an equation is read through its right-hand side only when its left side is a variable
  (`x = 77`, `AB = 5`); `78 = 77` is an equation, never the number 77; a true identity between
  closed numeric expressions (`1296 = 2^4 \\cdot 3^4`) stands for its value;
- when the gold is complex, `i` is the imaginary unit on both sides, so `\\sqrt3 e^{i\\pi/6}`
  equals `\\frac{3}{2} + \\frac{\\sqrt3}{2} i`; also when the gold is a plain number (`e^{i\\pi}`
  is -1);
- an answer whose size is bounded (before anything is evaluated) above MAX_DIGITS digits while
  the gold's is not cannot equal the gold: it is incorrect at once instead of spending the whole
  timeout inside sympy (power towers, `(10^{10})!`).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy
from latex2sympy2_extended.latex2sympy2 import is_expr_of_only_symbols
from math_verify import parse

MAX_DIGITS = 10**5  # sympy settles a 100,000-digit number in a few tens of ms
MAX_TERMS = 10**4  # sums and products with more terms are not evaluated
MAX_LITERAL = 1000  # digits of a decimal read exactly (Python refuses int() past 4300 digits)

_REPEATING = re.compile(
    r"(?<![\d.])(-?)(\d*)\.(\d*)\s*(?:\\overline|\\bar|\\dot)\s*(?:\{\s*(\d+)\s*\}|(\d))")
_PAREN_REPEATING = re.compile(r"(-?)(\d*)\.(\d*)\((\d+)\)")
_MODULUS_SUFFIX = re.compile(
    r"(?:\s|\\[ ,;:!]|\\q?quad)*+"  # spacing before the annotation
    r"(?:\\pmod\s*+\{[^{}]*\}|\\pmod\s*+\d++"  # \pmod{1000}, \pmod 1000
    r"|\(\s*+(?:\\[bp]?mod|\\text\s*+\{\s*+mod\s*+\}|\\operatorname\s*+\{\s*+mod\s*+\}|mod)"
    r"[^()]*\)"  # (\bmod 1000), (\text{mod } 1000)
    r"|\\text\s*+\{\s*+\(\s*+mod\s*+\}[^()]*\))"  # \text{ (mod } 1000)
    r"\s*$")
_SUFFIX_WINDOW = 200


def repeating_fraction(integer: str, fixed: str, repeat: str) -> Fraction:
    """The exact value of integer.fixed(repeat)(repeat)..."""
    whole = Fraction(int(integer or "0"))
    head = Fraction(int(fixed), 10 ** len(fixed)) if fixed else Fraction(0)
    cycle = Fraction(int(repeat), (10 ** len(repeat) - 1) * 10 ** len(fixed))
    return whole + head + cycle


def _as_latex(sign: str, value: Fraction) -> str:
    if value.denominator == 1:
        return f"{sign}{value.numerator}"
    return f"{sign}\\frac{{{value.numerator}}}{{{value.denominator}}}"


def rewrite_repeating_decimals(answer: str) -> str:
    """`0.\\overline{4}` -> `\\frac{4}{9}`; `0.(3)` only when it is the whole answer."""
    def exact(match: re.Match[str]) -> str:
        repeat = match.group(4) or match.group(5)
        if len(match.group(2)) + len(match.group(3)) + len(repeat) > MAX_LITERAL:
            return match.group(0)
        return _as_latex(match.group(1), repeating_fraction(match.group(2), match.group(3), repeat))

    text = _REPEATING.sub(exact, answer)
    whole = _PAREN_REPEATING.fullmatch(text.strip())
    if whole and len(text) <= MAX_LITERAL:
        sign, integer, fixed, repeat = whole.groups()
        text = _as_latex(sign, repeating_fraction(integer, fixed, repeat))
    return text


def strip_modulus(answer: str) -> str:
    """`77 \\pmod{1000}` and `77 \\ (\\text{mod } 1000)` -> `77` (the annotation, not the value)."""
    head, tail = answer[:-_SUFFIX_WINDOW], answer[-_SUFFIX_WINDOW:]  # bounded regex work
    stripped = head + _MODULUS_SUFFIX.sub("", tail)
    return stripped if stripped.strip() else answer


def rewrite_answer(answer: str, gold: str = "") -> str:
    """The answer with the string-level rules applied (a gold that itself speaks of a modulus
    keeps the answer's annotation, so both are compared as written)."""
    kept = answer if "mod" in gold else strip_modulus(answer)
    return rewrite_repeating_decimals(kept)


# --- magnitude bound (no evaluation) ---------------------------------------------------------
# digit_bound(e) bounds log10 of the largest numerator or denominator met while evaluating e
# exactly (roughly: the digits sympy has to handle). Exact for literals, an over-estimate above.

Env = dict[sympy.Symbol, float]  # digits of the values a summation index runs up to
_LOG2 = math.log10(2)


def _exp10(digits: float) -> float:
    """10**digits as a float, inf when it overflows."""
    return math.inf if digits > 300 else 10.0 ** digits


def _integer_digits(value: int) -> float:
    value = abs(value)
    if value < 2:
        return 0.0
    if value.bit_length() < 1000:
        return math.log10(value)
    return value.bit_length() * _LOG2


def _number_digits(expr: sympy.Number) -> float:
    if isinstance(expr, sympy.Rational):
        return max(_integer_digits(int(expr.p)), _integer_digits(int(expr.q)))
    if isinstance(expr, sympy.Float):
        mantissa, exponent = expr._mpf_[1], expr._mpf_[2]
        return abs(exponent + int(mantissa).bit_length()) * _LOG2
    return 1.0


def _magnitude(exponent: sympy.Basic, env: Env) -> float:
    """An upper bound on |exponent| (at least 1)."""
    if isinstance(exponent, sympy.Number) and exponent.is_finite:
        digits = _number_digits(exponent)
        return math.inf if digits > 300 else max(1.0, abs(float(exponent)))
    return max(1.0, _exp10(digit_bound(exponent, env)))


def _pow_digits(base: sympy.Basic, exponent: sympy.Basic, env: Env) -> float:
    base_digits, exponent_digits = digit_bound(base, env), digit_bound(exponent, env)
    if base_digits == 0:  # 0, 1, -1: small, but 1^{10^{10^{10}}} still evaluates its exponent
        return exponent_digits
    return max(base_digits * _magnitude(exponent, env), exponent_digits)


def _factorial_digits(argument: sympy.Basic, env: Env) -> float:
    n_digits = digit_bound(argument, env)
    return _exp10(n_digits) * max(1.0, n_digits)  # n! < n^n


def _series_digits(expr: sympy.Basic, env: Env) -> float:
    """Sum/Product: the size of the terms at the largest index times the number of terms (the
    work of adding them up, not only the size of the result)."""
    body, *limits = expr.args
    terms, inner = 1.0, dict(env)
    for limit in limits:
        if len(limit) != 3:
            return math.inf
        upper = max(digit_bound(limit[1], env), digit_bound(limit[2], env))
        terms *= _exp10(upper)
        inner[limit[0]] = upper
    if terms > MAX_TERMS:
        return math.inf
    return max(1.0, digit_bound(body, inner)) * terms


def digit_bound(expr: Any, env: Env | None = None) -> float:
    """An upper bound on the digits needed to evaluate `expr` exactly (inf: too many to count).

    Counts numerators and denominators alike, so 10^{-10^{10}} is as large as 10^{10^{10}}; a
    summation index counts as its upper limit. Reads the expression tree only; nothing is
    evaluated."""
    env = env or {}
    if not isinstance(expr, sympy.Basic) or not expr.args:
        if isinstance(expr, sympy.Number):
            return _number_digits(expr)
        return env.get(expr, 1.0) if isinstance(expr, sympy.Symbol) else 1.0
    if isinstance(expr, sympy.Pow):
        return _pow_digits(*expr.args, env)
    if isinstance(expr, (sympy.factorial, sympy.gamma, sympy.subfactorial, sympy.factorial2,
                         sympy.binomial)):
        return _factorial_digits(expr.args[0], env)
    if isinstance(expr, (sympy.Sum, sympy.Product)):
        return _series_digits(expr, env)
    parts = [digit_bound(arg, env) for arg in expr.args]
    if isinstance(expr, (sympy.Add, sympy.Mul, sympy.Function)):
        return sum(parts) + math.log10(len(parts) + 1)
    return max(parts)


def too_large(answer: Any, gold: Any) -> str | None:
    """Why `answer` cannot be evaluated against `gold`, or None when it can be."""
    answer_digits = digit_bound(answer)
    if answer_digits <= MAX_DIGITS or digit_bound(gold) > MAX_DIGITS:
        return None
    size = "an unboundable number of" if math.isinf(answer_digits) else \
        f"up to {answer_digits:.2g}"
    return (f"answer too large to evaluate ({size} digits, bound taken before evaluation; the "
            f"gold has at most {digit_bound(gold):.0f}): cannot equal the gold")


# --- equations ---------------------------------------------------------------------------------

def _is_equation(expr: Any) -> bool:
    if isinstance(expr, sympy.Eq):
        return True
    return isinstance(expr, sympy.And) and all(isinstance(a, sympy.Eq) for a in expr.args)


def _first_and_last(expr: Any) -> tuple[sympy.Eq, sympy.Eq]:
    if isinstance(expr, sympy.And):
        args = list(getattr(expr, "_unsorted_args", expr.args))
        return args[0], args[-1]
    return expr, expr


def has_equation(expr: Any) -> bool:
    if isinstance(expr, (sympy.FiniteSet, sympy.Tuple)):
        return any(has_equation(element) for element in expr.args)
    return _is_equation(expr)


def read_equation(expr: Any) -> tuple[Any, str | None]:
    """(value, None) with an equation read through its right side when its left side is a
    variable; (expr, why) when it is an equation that cannot stand for a value."""
    if isinstance(expr, (sympy.FiniteSet, sympy.Tuple)):
        values = []
        for element in expr.args:
            value, why = read_equation(element)
            if why:
                return expr, why
            values.append(value)
        return expr.func(*values), None
    if not _is_equation(expr):
        return expr, None
    first, last = _first_and_last(expr)
    if is_expr_of_only_symbols(first.lhs):
        return last.rhs, None
    identity = _identity_value(expr)
    if identity is not None:
        return identity, None
    return expr, f"answer is an equation whose left side is not a variable ({first.lhs})"


def _identity_value(expr: Any) -> Any:
    """The common value of an equation (or chain) whose sides are all closed numeric
    expressions and all equal; None otherwise (a false one, or one with a variable)."""
    equations = list(getattr(expr, "_unsorted_args", expr.args)) if isinstance(expr, sympy.And) \
        else [expr]
    sides = [side for eq in equations for side in (eq.lhs, eq.rhs)]
    if not all(isinstance(s, sympy.Expr) and s.is_number for s in sides):
        return None
    if any(sympy.simplify(side - sides[0]) != 0 for side in sides[1:]):
        return None
    return sides[-1]


# --- complex numbers ---------------------------------------------------------------------------

def _imaginary_symbols(expr: Any) -> list[sympy.Symbol]:
    if not isinstance(expr, sympy.Basic):
        return []
    return [s for s in expr.free_symbols if isinstance(s, sympy.Symbol) and s.name == "i"]


def is_complex(expr: Any) -> bool:
    return bool(_imaginary_symbols(expr))


def reads_i_as_unit(gold: Any) -> bool:
    """Whether `i` in an answer is the imaginary unit: the gold is complex, or a plain number
    (which no expression in a free variable i can equal, so e^{i\\pi} = -1 is meant)."""
    return is_complex(gold) or (isinstance(gold, sympy.Basic) and not gold.free_symbols)


def with_imaginary_unit(expr: Any) -> Any:
    """`expr` with the symbol i replaced by the imaginary unit."""
    symbols = _imaginary_symbols(expr)
    return expr.xreplace({s: sympy.I for s in symbols}) if symbols else expr


# --- decimals ------------------------------------------------------------------------------------

def decimal_value(expr: Any) -> Fraction | None:
    """The exact value of a decimal as written (0.001736 -> 1736/10^6), else None."""
    if isinstance(expr, sympy.Float):
        return Fraction(str(expr))
    return None


@lru_cache(maxsize=4096)
def parse_answer(answer: str) -> list[Any]:
    """math-verify's parse of an answer in math mode; cached, so grading and clustering in one
    worker parse each distinct answer once."""
    return parse(f"${answer}$", parsing_timeout=None)
