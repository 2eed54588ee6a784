"""Number formatting shared by the HTML template (as jinja2 filters) and the Markdown twin."""

from __future__ import annotations

from collections.abc import Sequence

DASH = "–"


def pct(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{100 * value:.{digits}f}%"


def ci(interval: Sequence[float] | None, digits: int = 1) -> str:
    if interval is None:
        return DASH
    return f"[{100 * interval[0]:.{digits}f}, {100 * interval[1]:.{digits}f}]"


def pp(value: float | None, digits: int = 1) -> str:
    """A signed difference of two percentages, in percentage points."""
    return DASH if value is None else f"{100 * value:+.{digits}f} pp"


def pp_ci(interval: Sequence[float] | None, digits: int = 1) -> str:
    if interval is None:
        return DASH
    return f"[{100 * interval[0]:+.{digits}f}, {100 * interval[1]:+.{digits}f}] pp"


def pvalue(value: float | None) -> str:
    if value is None:
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def number(value: float | None, digits: int = 0) -> str:
    return DASH if value is None else f"{value:,.{digits}f}"


FILTERS = {"pct": pct, "ci": ci, "pp": pp, "pp_ci": pp_ci, "pvalue": pvalue, "number": number}
