"""The closing sentence of a benchmark's verdict: its strongest finding.

Findings are ranked by how directly they bear on "is this score real?": a run that cannot be
vouched for first, then the answer in the training data, a claim the measurement does not reach,
better scores on older items, memorization signals, question-only overlap, a measurement above
the claim, and other reproducibility problems. With no finding, the sentence says what was
measured, how many checks found nothing, and which were not run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vt_eval.fmt import ci, pct, pp, pp_ci
from vt_eval.results import BenchmarkResult
from vt_eval.verdict.model import (ClaimDetail, FreshnessDetail, Line, OverlapDetail,
                                   ProbesDetail, ReproducibilityDetail)


def _pair(interval: object) -> tuple[float, float] | None:
    return (interval.low, interval.high) if interval is not None else None  # type: ignore[attr-defined]


def _items(count: int) -> str:
    return f"{count} item" + ("" if count == 1 else "s")


def _integrity(line: Line) -> str | None:
    d = line.detail
    if isinstance(d, ReproducibilityDetail) and not d.integrity_verified:
        return ("results.json does not follow from the run's files: no figure of this run can "
                "be vouched for until it is re-scored.")
    return None


def _answers_leaked(line: Line) -> str | None:
    d = line.detail
    if isinstance(d, OverlapDetail) and d.question_and_answer:
        overlapping = len(d.question_and_answer) + len(d.question_only) + len(d.unknown)
        count = len(d.question_and_answer)
        return (f"{_items(count)} {'appears' if count == 1 else 'appear'} in the training data together "
                f"with the answer; without the {_items(overlapping)} that overlap, the score is {pct(d.clean_score)} {ci(_pair(d.clean_ci95))} "
                f"(all − clean {pp(d.difference)} {pp_ci(_pair(d.difference_ci95))}).")
    return None


def _claim(relation: str) -> Callable[[Line], str | None]:
    def finding(line: Line) -> str | None:
        d = line.detail
        if isinstance(d, ClaimDetail) and line.state == "evidence_found" and d.relation == relation:
            return (f"The claimed {pct(d.claimed)} is {'above' if relation == 'below' else 'below'} "
                    f"the measured {pct(d.measured)} {ci(_pair(d.ci95))}: "
                    + ("not reproduced." if relation == "below" else "the model does better "
                                                                     "than claimed."))
        return None
    return finding


def _fresher(line: Line) -> str | None:
    d = line.detail
    if isinstance(d, FreshnessDetail) and line.state == "evidence_found":
        value = d.adjusted if d.strata else d.difference
        return (f"The model does better on items released before its cutoff {d.cutoff} "
                f"({pp(value)}): the score may rest on problems seen in training.")
    return None


def _memorized(line: Line) -> str | None:
    d = line.detail
    if isinstance(d, ProbesDetail) and line.state == "evidence_found":
        standing = [s.statistic for s in d.statistics if s.stands_out]
        return (f"The model treats this benchmark's text as more familiar than post-cutoff "
                f"controls ({', '.join(standing)}): evidence of memorization, not proof.")
    return None


def _question_only(line: Line) -> str | None:
    d = line.detail
    if isinstance(d, OverlapDetail) and line.state == "evidence_found":
        return (f"The questions of {_items(len(d.question_only) + len(d.unknown))} appear in the training "
                f"data (answers not found there); all − clean {pp(d.difference)} "
                f"{pp_ci(_pair(d.difference_ci95))}.")
    return None


def _other_repro(line: Line) -> str | None:
    if line.question == "reproducibility" and line.state == "evidence_found":
        return f"The measurement has a reproducibility problem: {line.summary.split(';')[0]}."
    return None


RANKED: Sequence[Callable[[Line], str | None]] = (
    _integrity, _answers_leaked, _claim("below"), _fresher, _memorized, _question_only,
    _claim("above"), _other_repro)


def strongest(lines: Sequence[Line], result: BenchmarkResult) -> str:
    for finding in RANKED:
        for line in lines:
            sentence = finding(line)
            if sentence:
                return sentence
    quiet = [line.title for line in lines if line.state == "no_evidence_found"]
    unchecked = [line.title for line in lines if line.state == "not_checked"]
    measured = f"Measured {pct(result.avg_at_k)} {ci(result.ci95)}"
    if not quiet:
        return f"{measured}; nothing was checked beyond the measurement ({', '.join(unchecked)})."
    return (f"{measured}; no evidence against it from {len(quiet)} check(s) "
            f"({', '.join(quiet)})" + (f"; not checked: {', '.join(unchecked)}." if unchecked
                                       else "."))
