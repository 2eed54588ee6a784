"""Number formatting shared by the terminal, the HTML template (jinja2 filters) and Markdown."""

from __future__ import annotations

from collections.abc import Sequence

DASH = "–"


def pct(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{100 * value:.{digits}f}%"


def ci(interval: Sequence[float] | None, digits: int = 1) -> str:
    if interval is None:
        return DASH
    return f"[{100 * interval[0]:.{digits}f}, {100 * interval[1]:.{digits}f}]"


def _signed(value: float, digits: int) -> str:
    text = f"{100 * value:+.{digits}f}"
    return "+" + text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.0"


def pp(value: float | None, digits: int = 1) -> str:
    """A signed difference of two percentages, in percentage points."""
    return DASH if value is None else f"{_signed(value, digits)} pp"


def pp_ci(interval: Sequence[float] | None, digits: int = 1) -> str:
    if interval is None:
        return DASH
    return f"[{_signed(interval[0], digits)}, {_signed(interval[1], digits)}] pp"


def pvalue(value: float | None) -> str:
    if value is None:
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def number(value: float | None, digits: int = 0) -> str:
    return DASH if value is None else f"{value:,.{digits}f}"


FILTERS = {"pct": pct, "ci": ci, "pp": pp, "pp_ci": pp_ci, "pvalue": pvalue, "number": number}
