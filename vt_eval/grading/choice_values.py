"""An answer written as an option's value rather than its letter (the lenient GPQA reading).

Policies:
- an answer and an option are the same when their canonical forms are equal: LaTeX markup
  dropped (`\\dfrac{1}{6}` is `1/6`, `\\text{ eV}` is `eV`, `\\hbar` is `hbar`), spacing and
  case ignored, `\\times 10^{-7}`, `x 10^-7`, `*1e-7` all one exponent;
- or when both are one number with at most a unit and the numbers are equal as decimals
  (`3.97 \\times 10^{-7} \\text{ M}` is `3.97x10^-7 M`, `9.08` is `9.08 Angstrom`,
  `3,060,000 km` is `3060000 km`); an answer's unit must then be the option's unit;
- an answer is an option's only when exactly one option matches: two equal options, or a value
  that several options share, is no answer.

Everything here runs in the main process on untrusted text: inputs are capped at MAX_VALUE
characters and every pattern is linear.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

MAX_VALUE = 300
_WRAP = re.compile(r"\\(?:text|textrm|mathrm|mbox|textbf|mathbf|operatorname)\s*+\{([^{}]*+)\}")
_FRAC = re.compile(r"\\[dt]?frac\s*+\{([^{}]*+)\}\s*+\{([^{}]*+)\}")
_SQRT = re.compile(r"\\sqrt\s*+\{([^{}]*+)\}")
_POWER = re.compile(r"\^\{([^{}]*+)\}")
_SPACING = re.compile(r"\\[,;:! ]|\\q?quad|\\left|\\right|\\displaystyle|[\s$~≈]|\\approx|\\sim")
_TIMES = re.compile(r"\\times|\\cdot|×|·")
_EXPONENT = re.compile(r"(?<=\d)(?:\*|x)10\^\(?([-+−]?\d++)\)?|(?<=\d)\*1e([-+−]?\d++)")
_NUMBER = re.compile(r"^([-+−]?(?:\d{1,3}(?:,\d{3})++|\d++)(?:\.\d++)?)(?:e([-+−]?\d++))?"
                     r"([a-zµμå°%]*+)$")


def canonical(text: str) -> str:
    """A comparable form of an option text or an answer: markup, spacing and case dropped."""
    text = text[:MAX_VALUE]
    for _ in range(3):
        text = _WRAP.sub(r"\1", text)
        text = _FRAC.sub(r"(\1)/(\2)", text)
        text = _SQRT.sub(r"sqrt(\1)", text)
        text = _POWER.sub(r"^(\1)", text)
    text = _TIMES.sub("*", _SPACING.sub("", text))
    text = re.sub(r"\((\w++)\)", r"\1", text)  # (1)/(6) is 1/6, ^(-7) is ^-7
    text = text.replace("\\", "").replace("{", "").replace("}", "").rstrip(".").casefold()
    return _EXPONENT.sub(lambda m: "e" + (m.group(1) or m.group(2)), text).replace("−", "-")


def _number(form: str) -> tuple[Decimal, str] | None:
    """(value, unit) of a canonical form that is one number with at most a unit."""
    if not (m := _NUMBER.match(form)):
        return None
    try:
        value = Decimal(m.group(1).replace(",", "").replace("−", "-"))
        if m.group(2):
            value = value.scaleb(int(m.group(2).replace("−", "-")))
    except (InvalidOperation, ValueError):
        return None
    return value, m.group(3)


def option_by_value(answer: str, options: Sequence[str]) -> int | None:
    """The index of the one option `answer` writes (by canonical text, else by number and
    unit), or None for none or several."""
    if not answer.strip() or len(answer) > MAX_VALUE:
        return None
    form = canonical(answer)
    forms = [canonical(option) for option in options]
    same = [i for i, option in enumerate(forms) if option == form and form]
    if same:
        return same[0] if len(same) == 1 else None
    number = _number(form)
    if number is None:
        return None
    hits = []
    for index, option in enumerate(forms):
        theirs = _number(option)
        if theirs is not None and theirs[0] == number[0] and number[1] in ("", theirs[1]):
            hits.append(index)
    return hits[0] if len(hits) == 1 else None
