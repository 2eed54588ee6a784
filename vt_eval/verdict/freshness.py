"""Freshness: accuracy on items released before vs after the model's training cutoff, from the
run's freshness.json (`vt-eval freshness RUN --cutoff DATE`).

freshness.json's per-item outcomes are held against the verified scores.jsonl first: a file made
from other scores (re-graded since, or edited) is not used. The test pools every dated item of
the run; this benchmark's line gives its own items on each side and the pooled difference.
Evidence found: the 95% CI of before - after lies above zero (within difficulty strata when the
data has them, since newer problems may simply be harder).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vt_eval.fmt import pct, pp, pp_ci, pvalue
from vt_eval.probes.freshness import UNSETTLED
from vt_eval.records import Score
from vt_eval.verdict.model import FreshnessDetail, Interval, Line
from vt_eval.verdict.stats import interval, power

FILE = "freshness.json"


class FreshnessFile:
    """freshness.json as read and checked against the scores, or why it cannot be used."""

    def __init__(self, run_dir: Path, scores: Iterable[Score]) -> None:
        self.path = Path(run_dir) / FILE
        self.data: dict[str, Any] | None = None
        self.error = ""
        if not self.path.is_file():
            self.error = (f"no {FILE}: run `vt-eval freshness {run_dir} --cutoff DATE` with the "
                          f"model's training cutoff")
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            stale = _stale_items(data["items"], scores)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.error = f"{self.path} cannot be read ({exc}); run `vt-eval freshness` again"
            return
        if stale:
            self.error = (f"{self.path} does not match scores.jsonl ({len(stale)} items differ, "
                          f"e.g. {stale[0]}): run `vt-eval freshness` again")
            return
        self.data = data


def _stale_items(items: list[dict[str, Any]], scores: Iterable[Score]) -> list[str]:
    correct: Counter[tuple[str, str]] = Counter()
    graded: Counter[tuple[str, str]] = Counter()
    for score in scores:
        if score.verdict not in UNSETTLED:
            graded[(score.benchmark, score.item_id)] += 1
            correct[(score.benchmark, score.item_id)] += score.verdict == "correct"
    recorded = {(str(i["benchmark"]), str(i["item_id"])): (int(i["correct"]), int(i["graded"]))
                for i in items}
    keys = set(recorded) | {k for k, v in graded.items() if v}
    return sorted(f"{b}/{i}" for b, i in keys
                  if recorded.get((b, i), (0, 0)) != (correct[(b, i)], graded[(b, i)]))


def _ci(entry: dict[str, Any]) -> Interval | None:
    return interval((entry.get("ci_low"), entry.get("ci_high")))  # type: ignore[arg-type]


def _detail(data: dict[str, Any], name: str) -> FreshnessDetail:
    mine = data.get("benchmarks", {}).get(name, {})
    diff, adjusted = data["difference"], data.get("adjusted_difference") or {}
    return FreshnessDetail(
        cutoff=str(data["cutoff"]), this_before=int(mine.get("before", {}).get("items") or 0),
        this_after=int(mine.get("after", {}).get("items") or 0),
        before_items=int(data["before"]["items"] or 0), before_accuracy=data["before"]["accuracy"],
        after_items=int(data["after"]["items"] or 0), after_accuracy=data["after"]["accuracy"],
        difference=diff.get("value"), difference_ci95=_ci(diff), p_value=diff.get("p_value"),
        adjusted=adjusted.get("value"), adjusted_ci95=_ci(adjusted),
        adjusted_p_value=adjusted.get("p_value"),
        strata=[str(s) for s in adjusted.get("strata_compared", [])])


def freshness_line(name: str, source: FreshnessFile) -> Line:
    anchor = f"freshness-{name}"
    if source.data is None:
        return Line(question="freshness", state="not_checked", detail=FreshnessDetail(),
                    anchor=anchor, summary="no before/after-cutoff split", reason=source.error)
    data = source.data
    if name in data.get("undated_benchmarks", []) or name not in data.get("benchmarks", {}):
        return Line(question="freshness", state="not_checked", anchor=anchor,
                    detail=FreshnessDetail(cutoff=str(data.get("cutoff"))),
                    summary=f"{name}'s items carry no release date",
                    reason="its card has no [released] table, so no item can be placed before "
                           "or after the cutoff")
    try:
        d = _detail(data, name)
    except (KeyError, TypeError, ValueError) as exc:
        return Line(question="freshness", state="not_checked", detail=FreshnessDetail(),
                    anchor=anchor, summary="no before/after-cutoff split",
                    reason=f"{source.path} is not a freshness.json this vt-eval reads ({exc!r}); "
                           f"run `vt-eval freshness` again")
    sides = (f"cutoff {d.cutoff}: this benchmark {d.this_before} items before, {d.this_after} "
             f"after; all dated items {pct(d.before_accuracy)} (n={d.before_items}) before vs "
             f"{pct(d.after_accuracy)} (n={d.after_items}) after")
    if d.difference is None or d.difference_ci95 is None:
        return Line(question="freshness", state="not_checked", detail=d, anchor=anchor,
                    summary=sides, reason="one side of the cutoff holds no item: nothing to compare")
    use_adjusted = bool(d.strata) and d.adjusted_ci95 is not None
    value, ci95, p_value = ((d.adjusted, d.adjusted_ci95, d.adjusted_p_value) if use_adjusted
                            else (d.difference, d.difference_ci95, d.p_value))
    label = "within difficulty strata" if use_adjusted else "before − after"
    text = f"{sides}; {label} {pp(value)} {pp_ci((ci95.low, ci95.high))}, p {pvalue(p_value)}"
    if d.this_before == 0:
        return Line(question="freshness", state="no_evidence_found", detail=d, anchor=anchor,
                    summary=f"{text}; every item of this benchmark was released after the cutoff "
                            f"(the fresh side of the comparison)",
                    power=power(d.this_after, ci95, compared_with=d.before_items,
                                note="holds only if the cutoff is the model's real one"))
    if ci95.low > 0:
        return Line(question="freshness", state="evidence_found", detail=d, anchor=anchor,
                    summary=text + ": better on items released before the cutoff")
    return Line(question="freshness", state="no_evidence_found", detail=d, anchor=anchor,
                summary=text, power=power(d.before_items, ci95, compared_with=d.after_items))
