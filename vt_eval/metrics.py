"""Metrics over k samples per problem: avg@k, unbiased pass@k, maj@k, bootstrap CI."""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimator (Chen et al. 2021): 1 - C(n-c, k) / C(n, k)."""
    if not 0 < k <= n:
        raise ValueError(f"pass@k needs 0 < k <= n (k={k}, n={n})")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def majority_answer(answers: Sequence[str | None]) -> tuple[str | None, int]:
    """The most frequent non-empty answer and its count. Ties go to the answer that appeared
    first (lowest sample index): deterministic and independent of any seed."""
    counts: dict[str, int] = {}
    first_seen: dict[str, int] = {}
    for index, answer in enumerate(answers):
        if answer is None:
            continue
        counts[answer] = counts.get(answer, 0) + 1
        first_seen.setdefault(answer, index)
    if not counts:
        return None, 0
    best = min(counts, key=lambda a: (-counts[a], first_seen[a]))
    return best, counts[best]


def bootstrap_ci(per_problem: Sequence[float], seed: int = 0, resamples: int = 2000,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap over problems of the mean per-problem accuracy."""
    values = np.asarray(per_problem, dtype=float)
    if values.size == 0:
        return (float("nan"), float("nan"))
    return bootstrap_interval(values, np.random.default_rng(seed), resamples, level)


def bootstrap_interval(values: np.ndarray, rng: np.random.Generator, resamples: int,
                       level: float) -> tuple[float, float]:
    """Percentile interval of the mean of `values` over `resamples` draws with replacement (the
    one bootstrap core: results, comparisons and probes call it with their own seeded rng)."""
    means = values[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)
