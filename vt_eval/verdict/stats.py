"""The verdict's own statistics: a check's power, and the all-items minus clean-subset difference."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vt_eval.verdict.model import Interval, Power

Z_975, Z_80 = 1.959964, 0.841621  # two-sided 5% test, 80% power
RESAMPLES = 2000


def interval(pair: Sequence[float] | None) -> Interval | None:
    if pair is None or any(v is None or not np.isfinite(v) for v in pair):
        return None
    return Interval(low=float(pair[0]), high=float(pair[1]))


def detectable_effect(ci: Interval | None) -> float | None:
    """Smallest true effect a 95% CI of this width detects with 80% power (normal approximation:
    (z_0.975 + z_0.80) x SE with SE = width / (2 x z_0.975))."""
    if ci is None:
        return None
    return (Z_975 + Z_80) * ci.width / (2 * Z_975)


def worst_case_effect(items: int, compared_with: int | None) -> float | None:
    """Detectable effect under the largest variance a 0/1 outcome can have (p = 1/2): used when
    every item scored the same, so the bootstrap CI has no width and says nothing about power."""
    if items < 1 or compared_with == 0:
        return None
    spread = 1 / items + (1 / compared_with if compared_with else 0)
    return (Z_975 + Z_80) * 0.5 * spread ** 0.5


def power(items: int, ci: Interval | None, compared_with: int | None = None,
          note: str = "", unit: str = "pp") -> Power:
    if ci is not None and ci.width == 0 and unit == "pp":
        worst = "every item scored the same (the bootstrap CI has no width); the detectable " \
                "effect assumes the largest variance of a 0/1 outcome"
        return Power(items=items, compared_with=compared_with, ci_width=0.0,
                     detectable_effect=worst_case_effect(items, compared_with),
                     note="; ".join(n for n in (note, worst) if n))
    return Power(items=items, compared_with=compared_with,
                 ci_width=ci.width if ci is not None else None,
                 detectable_effect=detectable_effect(ci), note=note,
                 unit=unit)  # type: ignore[arg-type]


def all_minus_clean(accuracies: Sequence[float], clean: Sequence[bool], seed: int,
                    resamples: int = RESAMPLES) -> tuple[float, Interval | None]:
    """mean(all items) - mean(clean items) and its 95% percentile bootstrap CI: items are drawn
    with replacement from the whole benchmark (the clean share varies as it would in a new draw
    of items); a replicate without a clean item carries no difference and is dropped."""
    values, keep = np.asarray(accuracies, dtype=float), np.asarray(clean, dtype=bool)
    if values.size == 0 or not keep.any():
        raise ValueError("all_minus_clean needs items and at least one clean item")
    observed = float(values.mean() - values[keep].mean())
    rng = np.random.default_rng(seed)
    index = rng.integers(0, values.size, size=(resamples, values.size))
    drawn, drawn_clean = values[index], keep[index]
    counts = drawn_clean.sum(axis=1)
    usable = counts > 0
    clean_means = (drawn * drawn_clean).sum(axis=1)[usable] / counts[usable]
    replicates = drawn.mean(axis=1)[usable] - clean_means
    if replicates.size < resamples / 2:
        return observed, None
    low, high = np.quantile(replicates, [0.025, 0.975])
    return observed, Interval(low=float(low), high=float(high))
