"""Claim vs measured: the published score against the measured avg@k and its 95% CI.

The claim comes from, first found: `--claim BENCH=SCORE`, the run config's `[claims]`, or the
card's reference table under this model's name. The measurement is recomputed from the verified
per-sample files (report.verify), never read from results.json.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from vt_eval.cards import Card
from vt_eval.fmt import ci, pct, pp
from vt_eval.results import BenchmarkResult
from vt_eval.verdict.model import ClaimDetail, Line
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


def claim_line(result: BenchmarkResult, claim: tuple[float, str] | None, names: list[str]) -> Line:
    measured, ci95 = result.avg_at_k, interval(result.ci95)
    detail = ClaimDetail(claimed=claim[0] if claim else None, source=claim[1] if claim else None,
                         measured=measured, ci95=ci95, items=result.items_scored, k=result.k)
    anchor = f"claim-{result.benchmark}"
    if claim is None:
        model = names[0] if names else "this model"
        return Line(question="claim", state="not_checked", detail=detail, anchor=anchor,
                    summary=f"measured avg@{result.k} {pct(measured)} {ci(result.ci95)}; no "
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
    text = (f"claimed {pct(claim[0])} ({claim[1]}), measured avg@{result.k} {pct(measured)} "
            f"{ci(result.ci95)} over {result.items_scored} items: ")
    if relation == "consistent":
        return Line(question="claim", state="no_evidence_found", detail=detail, anchor=anchor,
                    summary=text + "the claim lies inside the CI",
                    power=power(result.items_scored, ci95))
    gap = pp(measured - claim[0])
    return Line(question="claim", state="evidence_found", detail=detail, anchor=anchor,
                summary=text + f"measured {relation} the claim ({gap}; the claim is outside the "
                               f"95% CI)")
