"""Claim vs measured: the published score against the measured avg@k and its 95% CI.

The claim comes from, first found: `--claim BENCH=SCORE`, the run config's `[claims]`, or the
card's reference table under this model's name. The measurement is recomputed from the verified
per-sample files (report.verify), never read from results.json.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from vt_eval.cards import Card
from vt_eval.fmt import ci, pct, pp
from vt_eval.grading.readings import reading
from vt_eval.records import Score
from vt_eval.results import BenchmarkResult
from vt_eval.verdict.model import ClaimDetail, Interval, Line
from vt_eval.verdict.stats import interval, power


def model_names(config_name: str | None, manifest_model: Mapping[str, object]) -> list[str]:
    """The names this run's model goes by (config name, recorded model id), as typed and as the
    last path component, for looking up a card's reference table."""
    raw = [config_name, manifest_model.get("model"), manifest_model.get("model_path")]
    names: list[str] = []
    for value in raw:
        if isinstance(value, str) and value.strip():
            names += [value.strip(), Path(value.rstrip("/")).name]
    return list(dict.fromkeys(n for n in names if n))


def find_claim(benchmark: str, card: Card | None, given: Mapping[str, float],
               configured: Mapping[str, float], names: Iterable[str],
               given_source: str = "--claim") -> tuple[float, str] | None:
    """(claimed fraction, where it came from), or None."""
    if benchmark in given:
        return given[benchmark], given_source
    if benchmark in configured:
        return configured[benchmark] / 100, "config [claims]"
    if card is not None:
        published = {model.casefold(): (model, score) for model, score in card.reference.scores.items()}
        for name in names:
            hit = published.get(name.casefold())
            if hit is not None:
                return hit[1] / 100, f"card reference ({hit[0]})"
    return None


def matching_measure(result: BenchmarkResult, scores: Sequence[Score], card: Card | None,
                     seed: int) -> ClaimDetail:
    """The measurement the claim is held against: the headline avg@k, or, for a grader that
    keeps several readings of each answer (`<reading>_verdict` in a Score's details, e.g. GPQA's
    lenient one), the reading the card says the publishers used, recomputed from the verified
    scores (grading.readings), with the headline reading beside it."""
    base = ClaimDetail(measured=result.avg_at_k, ci95=interval(result.ci95),
                       items=result.items_scored, k=result.k)
    wanted = card.reference.answer_reading if card is not None else "lenient"
    key = f"{wanted}_verdict"
    if not any(key in s.details for s in scores):
        return base
    chosen = reading(scores, lambda s: str(s.details.get(key, s.verdict)), seed)
    headline = reading(scores, lambda s: s.verdict, seed)
    return base.model_copy(update={
        "metric": f"avg@k ({wanted} reading)", "reading": wanted, "measured": chosen.avg_at_k,
        "ci95": interval(chosen.ci95), "other_reading": "headline (Score verdict)",
        "other_measured": headline.avg_at_k, "other_no_answer_rate": headline.no_answer_rate})


def claim_line(result: BenchmarkResult, claim: tuple[float, str] | None, names: list[str],
               measure: ClaimDetail | None = None) -> Line:
    measure = measure or ClaimDetail(measured=result.avg_at_k, ci95=interval(result.ci95),
                                     items=result.items_scored, k=result.k)
    measured, ci95 = measure.measured, measure.ci95
    detail = measure.model_copy(update={"claimed": claim[0] if claim else None,
                                        "source": claim[1] if claim else None})
    metric = measure.metric.replace("avg@k", f"avg@{result.k}")
    beside = (f" ({measure.other_reading}: {pct(measure.other_measured)}, no answer "
              f"{pct(measure.other_no_answer_rate)})" if measure.reading else "")
    anchor = f"claim-{result.benchmark}"
    if claim is None:
        model = names[0] if names else "this model"
        return Line(question="claim", state="not_checked", detail=detail, anchor=anchor,
                    summary=f"measured {metric} {pct(measured)} {_ci(ci95)}{beside}; no "
                            f"published figure for {model}",
                    reason=f"no claim to hold it against: pass --claim {result.benchmark}=SCORE "
                           f"or set [claims] {result.benchmark} in eval.toml")
    if measured is None or ci95 is None:
        return Line(question="claim", state="not_checked", detail=detail, anchor=anchor,
                    summary=f"claimed {pct(claim[0])} ({claim[1]}); nothing measured",
                    reason="no item of this benchmark has a settled score")
    relation = ("below" if ci95.high < claim[0] else "above" if ci95.low > claim[0]
                else "consistent")
    detail = detail.model_copy(update={"relation": relation})
    text = (f"claimed {pct(claim[0])} ({claim[1]}), measured {metric} {pct(measured)} "
            f"{_ci(ci95)}{beside} over {result.items_scored} items: ")
    if relation == "consistent":
        return Line(question="claim", state="no_evidence_found", detail=detail, anchor=anchor,
                    summary=text + "the claim lies inside the CI",
                    power=power(result.items_scored, ci95))
    gap = pp(measured - claim[0])
    return Line(question="claim", state="evidence_found", detail=detail, anchor=anchor,
                summary=text + f"measured {relation} the claim ({gap}; the claim is outside the "
                               f"95% CI)")


def _ci(value: Interval | None) -> str:
    return ci((value.low, value.high) if value is not None else None)
