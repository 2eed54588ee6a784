"""Scores -> per-benchmark metrics (pure functions; no I/O). The aggregate stage calls these."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from vt_eval.cards import Card
from vt_eval.data import Item
from vt_eval.metrics import bootstrap_ci, majority_answer, pass_at_k
from vt_eval.records import GOLD_CLUSTER, VERDICTS, Sample, Score
from vt_eval.results import BenchmarkResult, ItemResult, SubsetScore

METRIC_POLICIES = {
    "maj@k": "answers vote by the grader's cluster key (its own equivalence); every correct answer "
             "is one cluster; ties go to the answer seen first",
    "ci95": "percentile bootstrap over problems, 2000 resamples, seeded by the run seed",
    "avg@k": "mean over items of the per-item accuracy over k samples (\"Pass@1\" in the papers)",
}


def item_result(item: Item, scores: Sequence[Score]) -> ItemResult:
    ordered = sorted(scores, key=lambda s: s.sample_index)
    verdicts = Counter(s.verdict for s in ordered)
    judge = verdicts.get("needs_judge", 0) + verdicts.get("judge_error", 0) > 0
    correct = verdicts.get("correct", 0)
    winner, _ = majority_answer([s.cluster for s in ordered])
    shown = winner if winner in (None, GOLD_CLUSTER) else next(  # an answer as written, not a key
        (s.extracted for s in ordered if s.cluster == winner and s.extracted), winner)
    return ItemResult(
        item_id=item.id, gold=item.answer, samples=len(ordered), correct=correct,
        accuracy=None if judge or not ordered else correct / len(ordered),
        verdicts=dict(verdicts),
        majority_answer=shown,
        majority_correct=None if judge else winner == GOLD_CLUSTER,
    )


def _pass_at_ks(items: Sequence[ItemResult], k: int) -> dict[str, float]:
    if not items:
        return {}
    n_min = min(i.samples for i in items)
    ks = sorted({kk for kk in (1, 2, 4, 8, 16, 32, 64, 128, k) if kk <= min(n_min, k)})
    return {f"pass@{kk}": sum(pass_at_k(i.samples, i.correct, kk) for i in items) / len(items)
            for kk in ks}


def _subset(label: str, items: Sequence[ItemResult], excluded: list[str], seed: int) -> SubsetScore:
    accuracies = [i.accuracy for i in items if i.accuracy is not None]
    return SubsetScore(
        label=label, items=len(accuracies), excluded_items=excluded,
        avg_at_k=sum(accuracies) / len(accuracies) if accuracies else None,
        ci95=bootstrap_ci(accuracies, seed) if accuracies else None,
        maj_at_k=(sum(bool(i.majority_correct) for i in items if i.accuracy is not None)
                  / len(accuracies)) if accuracies else None,
    )


def benchmark_result(card: Card, grader: str, items: Sequence[Item], k: int,
                     samples: Sequence[Sample], scores: Sequence[Score], warnings: list[str],
                     seed: int, exclude: set[str] | None = None) -> BenchmarkResult:
    by_item: dict[str, list[Score]] = {}
    for score in scores:
        by_item.setdefault(score.item_id, []).append(score)
    per_item = [item_result(item, by_item[item.id]) for item in items if item.id in by_item]
    settled = [i for i in per_item if i.accuracy is not None]
    main = _subset("all", settled, [], seed)
    verdicts = Counter(s.verdict for s in scores)
    tokens = [s.completion_tokens for s in samples if s.completion_tokens is not None]
    total = len(scores)
    clean = None
    if exclude is not None:
        kept = [i for i in settled if i.item_id not in exclude]
        clean = _subset("no training overlap", kept,
                        sorted(i.item_id for i in settled if i.item_id in exclude), seed)
    return BenchmarkResult(
        benchmark=card.name, title=card.title, grader=grader, k=k,
        complete=len(samples) == len(items) * k,
        items_planned=len(items), items_scored=len(settled),
        items_needing_judge=len(per_item) - len(settled),
        samples_planned=len(items) * k, samples_done=len(samples),
        avg_at_k=main.avg_at_k, ci95=main.ci95, pass_at_k=_pass_at_ks(settled, k),
        maj_at_k=main.maj_at_k,
        verdicts={v: verdicts.get(v, 0) for v in VERDICTS},
        no_answer_rate=verdicts.get("no_answer", 0) / total if total else None,
        truncation_rate=verdicts.get("truncated", 0) / total if total else None,
        ungraded_samples=verdicts.get("grader_timeout", 0) + verdicts.get("grader_error", 0),
        mean_response_tokens=sum(tokens) / len(tokens) if tokens else None,
        reference=dict(card.reference.scores), reference_citation=card.reference.citation,
        clean=clean, warnings=warnings, per_item=per_item,
    )


def rule_graded(scores: Sequence[Score]) -> list[Score]:
    """The scores as the rules left them, before the judge changed any (details.rule_verdict)."""
    return [s.model_copy(update={"verdict": s.details["rule_verdict"]})
            if "rule_verdict" in s.details else s for s in scores]


def headline(result: BenchmarkResult) -> dict[str, object]:
    return {"avg_at_k": result.avg_at_k, "maj_at_k": result.maj_at_k, "ci95": result.ci95,
            "items_scored": result.items_scored, "items_needing_judge": result.items_needing_judge,
            "verdicts": result.verdicts}
