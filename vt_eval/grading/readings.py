"""Several readings of the same responses (GPQA strict and lenient, like IFEval strict/loose).

A grader whose answers can be read more than one way keeps one verdict per reading in each
Score's details (`<reading>_verdict`; the Score's own verdict is the primary reading) and reports
each reading's avg@k, its 95% CI and its no-answer rate in results.json
(`extra_metrics.<grader>.readings.<reading>`). The scorecard's claim line reads the one named by
the card's `reference.answer_reading` (see vt_eval.cards.Reference).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vt_eval.fmt import ci, pct
from vt_eval.frozen import Frozen
from vt_eval.records import Score


class Reading(Frozen):
    avg_at_k: float | None  # mean over items of the per-item accuracy, as the headline avg@k
    ci95: tuple[float, float] | None  # percentile bootstrap over items, seeded by the run seed
    no_answer_rate: float | None  # share of samples with no answer under this reading
    samples: int


def reading(scores: Sequence[Score], verdict_of: Callable[[Score], str], seed: int) -> Reading:
    """avg@k, CI and no-answer rate of `scores` when each verdict is `verdict_of(score)`."""
    # Imported here: grading workers import this package and need not load numpy.
    from vt_eval.metrics import bootstrap_ci

    by_item: dict[str, list[str]] = {}
    for score in scores:
        by_item.setdefault(score.item_id, []).append(verdict_of(score))
    accuracies = [sum(v == "correct" for v in verdicts) / len(verdicts)
                  for verdicts in by_item.values()]
    no_answer = sum(verdict_of(s) == "no_answer" for s in scores)
    return Reading(
        avg_at_k=sum(accuracies) / len(accuracies) if accuracies else None,
        ci95=bootstrap_ci(accuracies, seed) if accuracies else None,
        no_answer_rate=no_answer / len(scores) if scores else None,
        samples=len(scores))


def reading_line(name: str, r: Reading) -> str:
    return (f"{name}: avg@k {pct(r.avg_at_k)} (95% CI {ci(r.ci95)}), no answer "
            f"{pct(r.no_answer_rate)}")
