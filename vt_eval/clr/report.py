"""What CLR writes for people: the method as run (every choice), one-line summaries, and the
per-benchmark entry of clr.json that the aggregate stage copies into results.json."""

from __future__ import annotations

from typing import Any

from vt_eval.clr.parsing import CLAIM_STATUSES, VERDICT_STATUSES

CHOICES = {
    "reliability": "r_k = (sum_m v_km / M) ** M (report eq. 5)",
    "missing_claims": "fewer than M claims: with 'zero' the missing claims count as unverified "
                      "(fixed 1/M); with 'skip' the mean runs over the claims given; "
                      "no claims: r = 0",
    "claim_parsing": "lines 'CLAIM n: ...' after any </think> (fallback: numbered or bulleted "
                     "lines); blank and repeated claims dropped; first M kept; statuses ok, "
                     "fewer (1..M-1), none (empty reply), garbage (text without claims)",
    "verdict_parsing": "the last 'VERDICT: TRUE|FALSE' (also CORRECT/INCORRECT, VALID/INVALID, "
                       "YES/NO, 1/0) after any </think>; no verdict = unparsable; a reply that hit "
                       "max tokens = truncated; both count as v = 0 (not confirmed)",
    "clusters": "the grader's own cluster keys from scores.jsonl (the benchmark's equivalence; "
                "every correct answer is one cluster); the extraction call's FINAL ANSWER is "
                "recorded, not voted on",
    "choice": "the cluster with the largest summed reliability over the K drawn trajectories",
    "tie_break": "equal sums (within 1e-9 relative): the larger cluster, then a uniform draw "
                 "from the repetition's seeded generator",
    "all_zero": "every answered trajectory has r = 0: plain majority vote (maj@K's rule: most "
                "votes, ties to the lowest sample index), counted as all-zero-majority",
    "no_answer": "no drawn trajectory has an answer: nothing is chosen (counted wrong, as maj@K)",
    "draws": "each repetition draws K of the problem's pool with numpy default_rng seeded by "
             "[run seed, repetition, blake2b(benchmark/item)]; when the pool holds exactly K, "
             "every repetition uses the same K (only tie-breaks differ)",
    "calls": "one extraction call per drawn trajectory and one verification call per claim, "
             "made once and reused by every repetition that draws the trajectory; with "
             "answered_only, trajectories without an answer cluster get no calls",
    "problem_text": "the sample's own last user message (GPQA: its option order)",
    "unsettled_items": "items with a needs_judge/judge_error score are left out (as avg@k)",
    "ci95": "percentile bootstrap over problems of the per-problem CLR accuracy (mean over R), "
            "2000 resamples, seeded by the run seed; clr_std is the spread over the R repetitions",
    "equal_tokens": "maj@K' with K' = round(K * (generation + CLR completion tokens) / generation) "
                    "on the first K' of the same draw order, capped at the pool",
}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def count_statuses(statuses: list[str], names: tuple[str, ...]) -> dict[str, int]:
    return {name: statuses.count(name) for name in names}


def summary_lines(metrics: dict[str, Any], parsing: dict[str, Any], m: int) -> list[str]:
    if not metrics.get("items"):
        return ["CLR: no settled problem to run on"]
    k, reps = metrics["k"], metrics["repetitions"]
    pool = metrics["pool"]["min"]
    draws = (f"K drawn from a pool of {pool}" if metrics["independent_draws"]
             else "pool = K: every repetition uses the same samples")
    lo, hi = metrics["clr_ci95"]
    tokens = metrics["tokens_per_problem"]
    ratio = tokens["clr_completion_over_generation"]
    eq = metrics["maj_at_equal_tokens"]
    outcomes, rules = metrics["outcomes"], metrics["choice_rules"]
    claims, verdicts = parsing["claims"], parsing["verdicts"]
    changed = sum(v for name, v in outcomes.items() if name != "kept")
    total = sum(outcomes.values())
    return [
        f"CLR@{k} (M={m}, R={reps}, {draws}): {_pct(metrics['clr_accuracy'])} ± "
        f"{_pct(metrics['clr_std'])} (95% CI [{_pct(lo)}, {_pct(hi)}]) vs maj@{k} "
        f"{_pct(metrics['maj_at_k'])}, pass@{k} {_pct(metrics['pass_at_k'])}, avg@{k} "
        f"{_pct(metrics['avg_at_k'])} on the same samples",
        f"CLR cost per problem: {metrics['calls_per_problem']:.1f} calls, "
        f"{tokens['clr_completion']:.0f} completion tokens "
        f"({'–' if ratio is None else f'{ratio:.2f}'}x the {tokens['generation']:.0f} generation "
        f"tokens of the K samples) + {tokens['clr_prompt']:.0f} prompt tokens; at equal tokens "
        f"maj@{eq['k']} {_pct(eq['accuracy'])}" + (" (capped at the pool)" if eq["capped_at_pool"]
                                                     else ""),
        f"CLR changed the majority answer in {changed}/{total} problem-repetitions "
        f"({outcomes.get('fixed', 0)} to right, {outcomes.get('broke', 0)} to wrong, "
        f"{outcomes.get('wrong_to_wrong', 0)} wrong to wrong); all-zero -> majority "
        f"{rules.get('all-zero-majority', 0)}, seeded tie-breaks {rules.get('tie-break', 0)}; "
        f"claims " + "/".join(f"{claims[s]} {s}" for s in CLAIM_STATUSES) + "; verdicts "
        + "/".join(f"{verdicts[s]} {s}" for s in VERDICT_STATUSES),
    ]


def compact_item(detail: dict[str, Any]) -> dict[str, Any]:
    """One problem for results.json: its outcome counts and its first repetition's clusters."""
    first = detail["repetitions"][0] if detail["repetitions"] else {}
    return {**{k: v for k, v in detail.items() if k != "repetitions"},
            "first_repetition": {k: first.get(k) for k in ("chosen", "majority", "rule",
                                                           "clusters")}}


def benchmark_entry(metrics: dict[str, Any], parsing: dict[str, Any], spent: dict[str, Any],
                    details: list[dict[str, Any]], m: int) -> dict[str, Any]:
    """clr.json's entry: `results` (-> results.json extra_metrics["clr"]), `summary`, `per_item`."""
    return {"results": {**metrics, "parsing": parsing, "spent": spent,
                        "per_item": [compact_item(d) for d in details]},
            "summary": summary_lines(metrics, parsing, m), "per_item": details}


def skipped_entry(reason: str) -> dict[str, Any]:
    return {"results": {"skipped": reason}, "summary": [f"CLR not applied: {reason}"],
            "per_item": []}
