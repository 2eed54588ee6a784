"""Benchmark-level evidence: each statistic's mean with a bootstrap CI, and its difference from
the post-cutoff controls with a CI and a one-sided permutation p-value. For every statistic here a
higher value means "more like text the model has seen". Evidence, not proof: a benchmark stands
out when the whole CI of its difference from the controls lies above the configured margin."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vt_eval.probes.settings import ProbeSettings
from vt_eval.probes.stats import diff_ci, mean_ci, permutation_p

STATISTICS: dict[str, tuple[str, str]] = {
    "min_k": ("likelihood", "Min-K% Prob: mean log p (nats/token) of the k% least likely tokens"),
    "min_k_pp": ("likelihood", "Min-K%++: mean of the k% lowest standardised token scores "
                               "(log p - mu) / sigma under the model's own next-token distribution"),
    "mean_logprob": ("likelihood", "mean log p per token (the plain loss, k = 100%)"),
    "perturbation_gap": ("likelihood", "mean log p of the text minus that of its perturbed copies "
                                       "(numbers changed, sentences reordered)"),
    "prefix_match": ("completion", "share of the true continuation's words reproduced verbatim "
                                   "from its start (greedy), mean over cuts"),
    "rouge_l": ("completion", "ROUGE-L F1 of the greedy continuation vs the true one, mean over cuts"),
    "ngram": ("completion", "fraction of the true continuation's word n-grams reproduced"),
    "lcs": ("completion", "longest common substring / length of the true continuation"),
    "numbers_recalled": ("completion", "share of the true continuation's numbers produced"),
    "answer_hits": ("completion", "exact gold answers given without the question sentence"),
}


def values_of(records: Sequence[Mapping[str, Any]], statistic: str) -> list[float | None]:
    return [record.get(statistic) for record in records]


def summarize(benchmark: str, records: Sequence[Mapping[str, Any]],
              settings: ProbeSettings) -> dict[str, Any]:
    """Mean and bootstrap CI of every statistic over one benchmark's items."""
    return {name: mean_ci(values_of(records, name), settings.bootstrap, settings.confidence,
                          settings.seed, f"{benchmark}/{name}").as_dict() for name in STATISTICS}


def contrast(benchmark: str, records: Sequence[Mapping[str, Any]],
             controls: Sequence[Mapping[str, Any]], settings: ProbeSettings) -> dict[str, Any]:
    """Per statistic: benchmark minus controls, its CI, p-value and whether it stands out."""
    out: dict[str, Any] = {}
    for name in STATISTICS:
        mine, theirs = values_of(records, name), values_of(controls, name)
        label = f"{benchmark}-vs-controls/{name}"
        estimate = diff_ci(mine, theirs, settings.bootstrap, settings.confidence, settings.seed, label)
        margin = settings.margin(name)
        out[name] = {**estimate.as_dict(), "margin": margin,
                     "p_value": permutation_p(mine, theirs, settings.permutations, settings.seed, label),
                     "stands_out": estimate.low is not None and estimate.low > margin}
    return out


def compare(records: Mapping[str, Sequence[Mapping[str, Any]]], controls: Sequence[str],
            settings: ProbeSettings) -> dict[str, Any]:
    """Every benchmark's summary; every non-control benchmark's contrast with the pooled controls."""
    pooled = [r for name in controls for r in records.get(name, [])]
    out: dict[str, Any] = {}
    for name, items in records.items():
        entry: dict[str, Any] = {"role": "control" if name in controls else "suspect",
                                 "items": len(items), "statistics": summarize(name, items, settings)}
        if name not in controls and pooled:
            entry["vs_controls"] = contrast(name, items, pooled, settings)
            entry["stands_out_on"] = [s for s, c in entry["vs_controls"].items() if c["stands_out"]]
        out[name] = entry
    return out
