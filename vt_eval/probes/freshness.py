"""The freshness test: does the model do better on items published before its training cutoff?

If a score only holds on items that circulated before the cutoff, it may be leakage; if it holds
on items made after, it is real. Per item, accuracy = correct samples / graded samples (samples
the rules could not settle are left out and counted). Items are compared, not samples (the k
samples of one item are not independent). Reported: accuracy before and after, their difference
with a bootstrap CI and a two-sided permutation p-value, and the same within difficulty strata
(LeetCode/LCB difficulty, AIME problem position) where the data has them: labels are permuted
only within a stratum, and strata holding only one side carry no comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from vt_eval.probes.stats import diff_ci, permutation_p, stratified_diff_ci, stratified_permutation_p

UNSETTLED = frozenset({"needs_judge", "grader_timeout", "grader_error", "judge_error"})
NO_STRATUM = "no difficulty data"
MEANING = ("difference = accuracy on items dated on or before the cutoff minus accuracy on items "
           "dated after it (item-level means). Positive: better on older items, which training on "
           "them (or on their discussions) would produce; older and newer items can also differ "
           "in difficulty or style, hence the difficulty-adjusted difference. Evidence, not proof.")


@dataclass(frozen=True)
class ItemOutcome:
    benchmark: str
    item_id: str
    date: date | None
    stratum: str | None
    correct: int
    graded: int
    unsettled: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.graded


@dataclass(frozen=True)
class FreshnessSettings:
    seed: int = 0
    bootstrap: int = 2000
    permutations: int = 5000
    confidence: float = 0.95


def _group_summary(items: Sequence[ItemOutcome]) -> dict[str, Any]:
    if not items:
        return {"items": 0, "accuracy": None, "dates": None}
    dates = sorted(i.date for i in items if i.date)
    return {"items": len(items), "accuracy": sum(i.accuracy for i in items) / len(items),
            "dates": [str(dates[0]), str(dates[-1])]}


def _strata(before: Sequence[ItemOutcome], after: Sequence[ItemOutcome]) -> list[dict[str, Any]]:
    names = sorted({i.stratum or NO_STRATUM for i in [*before, *after]})
    out = []
    for name in names:
        b = [i for i in before if (i.stratum or NO_STRATUM) == name]
        a = [i for i in after if (i.stratum or NO_STRATUM) == name]
        out.append({"stratum": name, "before": _group_summary(b), "after": _group_summary(a),
                    "compared": bool(a and b)})
    return out


def analyze(outcomes: Sequence[ItemOutcome], cutoff: date, settings: FreshnessSettings) -> dict[str, Any]:
    graded = [o for o in outcomes if o.graded > 0]
    before = [o for o in graded if o.date is not None and o.date <= cutoff]
    after = [o for o in graded if o.date is not None and o.date > cutoff]
    undated = sorted({o.benchmark for o in graded if o.date is None})
    acc_b, acc_a = [o.accuracy for o in before], [o.accuracy for o in after]
    seed, conf = settings.seed, settings.confidence
    raw = diff_ci(acc_b, acc_a, settings.bootstrap, conf, seed, "freshness/raw")
    both = before + after
    values = [o.accuracy for o in both]
    labels = [True] * len(before) + [False] * len(after)
    strata = [o.stratum or NO_STRATUM for o in both]
    adjusted = stratified_diff_ci(values, labels, strata, settings.bootstrap, conf, seed,
                                  "freshness/adjusted")
    return {
        "cutoff": str(cutoff), "meaning": MEANING, "unit": "item (accuracy over its graded samples)",
        "before": _group_summary(before), "after": _group_summary(after),
        "difference": {**raw.as_dict(), "p_value": permutation_p(
            acc_b, acc_a, settings.permutations, seed, "freshness/raw", alternative="two-sided")},
        "adjusted_difference": {**adjusted.as_dict(), "p_value": stratified_permutation_p(
            values, labels, strata, settings.permutations, seed, "freshness/adjusted"),
            "strata_compared": sorted({s["stratum"] for s in _strata(before, after) if s["compared"]})},
        "strata": _strata(before, after),
        "benchmarks": {name: {"before": _group_summary([o for o in before if o.benchmark == name]),
                              "after": _group_summary([o for o in after if o.benchmark == name])}
                       for name in sorted({o.benchmark for o in both})},
        "undated_benchmarks": undated,
        "unsettled_samples": sum(o.unsettled for o in outcomes),
        "items": [{**asdict(o), "date": str(o.date) if o.date else None} for o in outcomes],
        "settings": asdict(settings),
    }
