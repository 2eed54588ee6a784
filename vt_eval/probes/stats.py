"""Seeded uncertainty: percentile bootstrap CIs and permutation tests (optionally stratified)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vt_eval.metrics import bootstrap_interval


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None
    n: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {"value": self.value, "ci_low": self.low, "ci_high": self.high, "n": self.n}


def _rng(seed: int, label: str) -> np.random.Generator:
    """One stream per (seed, label): results do not depend on the order statistics are computed."""
    return np.random.default_rng([seed, *label.encode("utf-8")])


def _clean(values: Sequence[float | None]) -> np.ndarray:
    return np.array([v for v in values if v is not None], dtype=float)


def mean_ci(values: Sequence[float | None], resamples: int, confidence: float, seed: int,
            label: str) -> Estimate:
    data = _clean(values)
    if data.size == 0:
        return Estimate(None, None, None, 0)
    low, high = bootstrap_interval(data, _rng(seed, label), resamples, confidence)
    return Estimate(float(data.mean()), low, high, int(data.size))


def diff_ci(a: Sequence[float | None], b: Sequence[float | None], resamples: int,
            confidence: float, seed: int, label: str) -> Estimate:
    """mean(a) - mean(b), each group resampled on its own."""
    x, y = _clean(a), _clean(b)
    if x.size == 0 or y.size == 0:
        return Estimate(None, None, None, int(x.size + y.size))
    rng = _rng(seed, label)
    diffs = (x[rng.integers(0, x.size, (resamples, x.size))].mean(axis=1)
             - y[rng.integers(0, y.size, (resamples, y.size))].mean(axis=1))
    tail = (1 - confidence) / 2
    return Estimate(float(x.mean() - y.mean()), float(np.quantile(diffs, tail)),
                    float(np.quantile(diffs, 1 - tail)), int(x.size + y.size))


def permutation_p(a: Sequence[float | None], b: Sequence[float | None], permutations: int,
                  seed: int, label: str, alternative: str = "greater") -> float | None:
    """P-value of mean(a) - mean(b) under exchangeable labels ("greater" or "two-sided")."""
    x, y = _clean(a), _clean(b)
    if x.size == 0 or y.size == 0:
        return None
    pooled = np.concatenate([x, y])
    labels = np.zeros(pooled.size, dtype=bool)
    labels[: x.size] = True
    return _permute(pooled, labels, None, permutations, _rng(seed, label), alternative)


def stratified_permutation_p(values: Sequence[float], in_a: Sequence[bool], strata: Sequence[str],
                             permutations: int, seed: int, label: str,
                             alternative: str = "two-sided") -> float | None:
    """Like permutation_p, but labels are shuffled only within each stratum (difficulty), and the
    statistic is the stratum-weighted difference (see weighted_difference)."""
    data, labels = np.array(values, dtype=float), np.array(in_a, dtype=bool)
    if labels.all() or not labels.any():
        return None
    return _permute(data, labels, np.array(strata), permutations, _rng(seed, label), alternative)


def weighted_difference(values: np.ndarray, labels: np.ndarray, strata: np.ndarray | None) -> float:
    """mean(a) - mean(b); with strata, the average of within-stratum differences over strata that
    hold both groups, weighted by stratum size (strata with one group only carry no comparison)."""
    if strata is None:
        return float(values[labels].mean() - values[~labels].mean())
    total, weight = 0.0, 0
    for name in np.unique(strata):
        inside = strata == name
        a, b = values[inside & labels], values[inside & ~labels]
        if a.size and b.size:
            total += (a.mean() - b.mean()) * inside.sum()
            weight += int(inside.sum())
    return total / weight if weight else float("nan")


def _permute(values: np.ndarray, labels: np.ndarray, strata: np.ndarray | None, permutations: int,
             rng: np.random.Generator, alternative: str) -> float | None:
    observed = weighted_difference(values, labels, strata)
    if np.isnan(observed):
        return None
    groups = [np.arange(values.size)] if strata is None else \
        [np.flatnonzero(strata == name) for name in np.unique(strata)]
    extreme = 0
    shuffled = labels.copy()
    for _ in range(permutations):
        for index in groups:
            shuffled[index] = rng.permutation(labels[index])
        stat = weighted_difference(values, shuffled, strata)
        extreme += stat >= observed - 1e-12 if alternative == "greater" else \
            abs(stat) >= abs(observed) - 1e-12
    return float((extreme + 1) / (permutations + 1))


def stratified_diff_ci(values: Sequence[float], in_a: Sequence[bool], strata: Sequence[str],
                       resamples: int, confidence: float, seed: int, label: str) -> Estimate:
    """The stratum-weighted difference (weighted_difference) with a bootstrap CI that resamples
    items within each (stratum, group) cell, so every replicate keeps the design."""
    data, labels, names = np.array(values, dtype=float), np.array(in_a, dtype=bool), np.array(strata)
    observed = weighted_difference(data, labels, names) if data.size else float("nan")
    if np.isnan(observed):
        return Estimate(None, None, None, int(data.size))
    rng = _rng(seed, label)
    cells = [np.flatnonzero((names == s) & (labels == g)) for s in np.unique(names) for g in (True, False)]
    cells = [c for c in cells if c.size]
    replicates = np.empty(resamples)
    for r in range(resamples):
        index = np.concatenate([c[rng.integers(0, c.size, c.size)] for c in cells])
        replicates[r] = weighted_difference(data[index], labels[index], names[index])
    tail = (1 - confidence) / 2
    return Estimate(float(observed), float(np.nanquantile(replicates, tail)),
                    float(np.nanquantile(replicates, 1 - tail)), int(data.size))
