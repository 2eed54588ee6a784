"""Paired tests over per-problem accuracy (seeded, so every number is reproducible)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vt_eval.metrics import bootstrap_interval

RESAMPLES = 10_000
LEVEL = 0.95
METHOD = ("paired bootstrap over problems (CI, {n} resamples) and paired sign-flip permutation "
          "test (two-sided p, {n} permutations) on per-problem accuracy, seed {seed}")


@dataclass(frozen=True)
class PairedResult:
    items: int
    mean_a: float
    mean_b: float
    difference: float  # mean_a - mean_b
    ci95: tuple[float, float]
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < 1 - LEVEL


def method_text(seed: int, resamples: int = RESAMPLES) -> str:
    return METHOD.format(n=resamples, seed=seed)


def paired_test(a: Sequence[float], b: Sequence[float], seed: int = 0,
                resamples: int = RESAMPLES) -> PairedResult:
    """Difference of means of paired per-problem accuracies: bootstrap CI + permutation p."""
    if len(a) != len(b) or not a:
        raise ValueError("paired_test needs two equally long, non-empty sequences")
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diffs = x - y
    rng = np.random.default_rng(seed)
    low, high = bootstrap_interval(diffs, rng, resamples, LEVEL)
    observed = abs(diffs.mean())
    signs = rng.choice(np.array([-1.0, 1.0]), size=(resamples, diffs.size))
    permuted = np.abs((signs * diffs).mean(axis=1))
    # +1 smoothing: a permutation p-value is never exactly 0
    p_value = (np.count_nonzero(permuted >= observed - 1e-12) + 1) / (resamples + 1)
    return PairedResult(items=int(diffs.size), mean_a=float(x.mean()), mean_b=float(y.mean()),
                        difference=float(diffs.mean()), ci95=(float(low), float(high)),
                        p_value=float(min(1.0, p_value)))
