"""The scorecard's freshness section, from `freshness.json` (written by `vt-eval freshness`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vt_eval.errors import DataError
from vt_eval.report.view import FreshnessView

FILE = "freshness.json"


def _side(data: dict[str, Any]) -> tuple[int, float | None]:
    return int(data.get("items") or 0), data.get("accuracy")


def _ci(diff: dict[str, Any]) -> tuple[float, float] | None:
    low, high = diff.get("ci_low"), diff.get("ci_high")
    return (float(low), float(high)) if low is not None and high is not None else None


def freshness_view(run_dir: Path) -> FreshnessView | None:
    """None when the run has no freshness.json; DataError when it cannot be read."""
    path = run_dir / FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        before, after = _side(data["before"]), _side(data["after"])
        diff, adjusted = data["difference"], data.get("adjusted_difference") or {}
        return FreshnessView(
            cutoff=str(data["cutoff"]), created_at=str(data.get("created_at", "")),
            meaning=str(data.get("meaning", "")), before_items=before[0], before_accuracy=before[1],
            after_items=after[0], after_accuracy=after[1], difference=diff.get("value"),
            difference_ci=_ci(diff), p_value=diff.get("p_value"),
            adjusted=adjusted.get("value"), adjusted_ci=_ci(adjusted),
            adjusted_p=adjusted.get("p_value"),
            strata=[str(s) for s in adjusted.get("strata_compared", [])],
            undated=[str(b) for b in data.get("undated_benchmarks", [])])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{path}: not a freshness.json this vt-eval can read ({exc}); run "
                        f"`vt-eval freshness` again") from exc
