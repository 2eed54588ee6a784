"""Per-benchmark CLR metrics from the problems' repetitions (pure; JSON-ready dicts).

Baselines are computed on the very draws CLR used: maj@K, pass@K (any of the K correct) and
avg@K, each averaged over the R repetitions. "maj@K at equal tokens" spends CLR's added completion
tokens on more samples instead: K' = round(K * (generation + CLR completion tokens) / generation),
capped at the pool; its K' are the first K' of the same draw order (a superset of CLR's K).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vt_eval.clr.aggregation import Repetition, Trajectory, majority_of_first
from vt_eval.metrics import bootstrap_ci
from vt_eval.records import GOLD_CLUSTER


@dataclass(frozen=True)
class ProblemRun:
    item_id: str
    pool: tuple[Trajectory, ...]
    repetitions: tuple[Repetition, ...]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _outcome(rep: Repetition) -> str:
    choice = rep.choice
    if not choice.changed:
        return "kept"
    if choice.chosen == GOLD_CLUSTER:
        return "fixed"
    return "broke" if choice.majority == GOLD_CLUSTER else "wrong_to_wrong"


def _per_repetition(problems: Sequence[ProblemRun], pick: Any) -> list[float]:
    count = len(problems[0].repetitions)
    return [sum(pick(p.repetitions[r]) for p in problems) / len(problems) for r in range(count)]


def _equal_tokens(problems: Sequence[ProblemRun], k: int, generation: float,
                  clr_completion: float) -> dict[str, Any]:
    pool = min(len(p.pool) for p in problems)
    wanted = round(k * (generation + clr_completion) / generation) if generation > 0 else k
    k_eq = max(1, min(wanted, pool))
    hits = [majority_of_first(p.pool, rep.order, k_eq) == GOLD_CLUSTER
            for p in problems for rep in p.repetitions]
    return {"k": k_eq, "k_wanted": wanted, "capped_at_pool": wanted > pool,
            "accuracy": _mean([float(h) for h in hits])}


def problem_detail(problem: ProblemRun) -> dict[str, Any]:
    reps = problem.repetitions
    outcomes = Counter(_outcome(r) for r in reps)
    return {
        "item_id": problem.item_id, "pool": len(problem.pool),
        "clr_accuracy": _mean([float(r.choice.chosen == GOLD_CLUSTER) for r in reps]),
        "majority_accuracy": _mean([float(r.choice.majority == GOLD_CLUSTER) for r in reps]),
        "changed": sum(r.choice.changed for r in reps), "fixed": outcomes["fixed"],
        "broke": outcomes["broke"], "wrong_to_wrong": outcomes["wrong_to_wrong"],
        "repetitions": [{
            "drawn": list(r.choice.drawn), "chosen": r.choice.chosen,
            "majority": r.choice.majority, "rule": r.choice.rule, "outcome": _outcome(r),
            "tied": list(r.choice.tied),
            "clusters": {key: {"count": v.count, "reliability": round(v.reliability, 6),
                               "answer": v.answer, "correct": key == GOLD_CLUSTER}
                         for key, v in sorted(r.choice.clusters.items(),
                                              key=lambda kv: -kv[1].reliability)},
        } for r in reps],
    }


def benchmark_metrics(problems: Sequence[ProblemRun], k: int, run_seed: int) -> dict[str, Any]:
    """CLR accuracy (mean, spread, CI) beside maj@K, pass@K, avg@K on the same draws, and costs."""
    if not problems:
        return {"items": 0}
    reps = [r for p in problems for r in p.repetitions]
    clr = _per_repetition(problems, lambda r: r.choice.chosen == GOLD_CLUSTER)
    per_problem = [sum(r.choice.chosen == GOLD_CLUSTER for r in p.repetitions) / len(p.repetitions)
                   for p in problems]
    generation = _mean([r.generation_tokens for r in reps]) or 0.0
    clr_completion = _mean([r.clr_completion_tokens for r in reps]) or 0.0
    clr_prompt = _mean([r.clr_prompt_tokens for r in reps]) or 0.0
    pools = [len(p.pool) for p in problems]
    return {
        "items": len(problems), "k": k, "repetitions": len(problems[0].repetitions),
        "pool": {"min": min(pools), "max": max(pools)},
        "independent_draws": min(pools) > k,
        "clr_accuracy": _mean(clr),
        "clr_std": statistics.stdev(clr) if len(clr) > 1 else 0.0,
        "clr_per_repetition": clr,
        "clr_ci95": list(bootstrap_ci(per_problem, run_seed)),
        "maj_at_k": _mean(_per_repetition(problems, lambda r: r.choice.majority == GOLD_CLUSTER)),
        "pass_at_k": _mean(_per_repetition(problems, lambda r: r.pass_any)),
        "avg_at_k": _mean(_per_repetition(problems, lambda r: r.avg)),
        "maj_at_equal_tokens": _equal_tokens(problems, k, generation, clr_completion),
        "tokens_per_problem": {
            "generation": generation, "clr_prompt": clr_prompt, "clr_completion": clr_completion,
            "clr_completion_over_generation": clr_completion / generation if generation else None},
        "calls_per_problem": _mean([r.calls for r in reps]),
        "choice_rules": dict(Counter(r.choice.rule for r in reps)),
        "outcomes": dict(Counter(_outcome(r) for r in reps)),
    }
