"""Run files (+ audit, + comparison run) -> the `Scorecard` view model."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from vt_eval.data import Item
from vt_eval.errors import VtEvalError
from vt_eval.metrics import bootstrap_ci
from vt_eval.planning import reload_benchmark
from vt_eval.records import Score
from vt_eval.report import dates
from vt_eval.report.contamination import contamination_view, load_audit
from vt_eval.report.freshness import freshness_view
from vt_eval.report.provenance import provenance_rows
from vt_eval.report.rundata import RunData
from vt_eval.report.view import (
    BenchmarkView,
    CleanView,
    CompareView,
    ContaminationView,
    ProblemView,
    ReferenceRow,
    SampleView,
    Scorecard,
)
from vt_eval.results import BenchmarkResult
from vt_eval.util import now_iso

REFERENCE_MODEL = "VibeThinker-3B"
CLR_KEYS = ("clr_accuracy", "accuracy", "clr", "score", "value")  # the headline, first found


def _items(run: RunData) -> dict[str, dict[str, Item]]:
    """Planned items by benchmark (question, gold, row) when the data is still available."""
    out: dict[str, dict[str, Item]] = {}
    for planned in run.plan.benchmarks if run.plan else []:
        try:
            out[planned.name] = {i.id: i for i in reload_benchmark(planned).loaded.items}
        except VtEvalError:
            continue  # data file gone or changed: the page shows what results.json holds
    return out


def _shown(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and all(isinstance(v, float) for v in value):
        return "[" + ", ".join(f"{v:.4g}" for v in value) + "]"
    return str(value)


def clr_metrics(result: BenchmarkResult) -> tuple[float | None, list[tuple[str, str]]]:
    """CLR's headline accuracy and its other scalar fields (extra_metrics["clr"], written by the
    CLR stage: clr_accuracy, clr_ci95, maj_at_k on the same draws, ...), when present."""
    raw = result.extra_metrics.get("clr")
    if raw is None:
        return None, []
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw), []
    if not isinstance(raw, Mapping):
        return None, [("clr", str(raw))]
    value = next((float(raw[k]) for k in CLR_KEYS if isinstance(raw.get(k), (int, float))
                  and not isinstance(raw.get(k), bool)), None)
    detail = [(str(k), _shown(v)) for k, v in raw.items()
              if not isinstance(v, dict) and (not isinstance(v, list) or k.endswith("ci95"))]
    return value, detail


def references(result: BenchmarkResult) -> list[ReferenceRow]:
    rows = []
    for model, score in sorted(result.reference.items(), key=lambda kv: -kv[1]):
        published = score / 100
        diff = None if result.avg_at_k is None else result.avg_at_k - published
        ci = None if result.ci95 is None else (result.ci95[0] - published,
                                               result.ci95[1] - published)
        rows.append(ReferenceRow(model, published, diff, ci, model == REFERENCE_MODEL))
    return rows


def _samples(run: RunData, scores: list[Score]) -> list[SampleView]:
    views = []
    for score in sorted(scores, key=lambda s: s.sample_index):
        digest = run.samples.get(score.key)
        views.append(SampleView(
            index=score.sample_index, verdict=score.verdict, extracted=score.extracted,
            explanation=score.explanation, tail=digest.tail if digest else "",
            chars=digest.chars if digest else 0, tokens=digest.completion_tokens if digest else None,
            finish=digest.finish_reason if digest else "unknown"))
    return views


def _problems(run: RunData, result: BenchmarkResult, item_dates: Mapping[str, date],
              contaminated: set[str]) -> list[ProblemView]:
    by_item: dict[str, list[Score]] = {}
    for score in run.scores:
        if score.benchmark == result.benchmark:
            by_item.setdefault(score.item_id, []).append(score)
    return [ProblemView(
        item_id=i.item_id, gold=i.gold, accuracy=i.accuracy, correct=i.correct, samples=i.samples,
        majority_answer=i.majority_answer, majority_correct=i.majority_correct,
        verdicts={k: v for k, v in i.verdicts.items() if v},
        date=item_dates[i.item_id].isoformat() if i.item_id in item_dates else None,
        contaminated=i.item_id in contaminated,
        sample_views=_samples(run, by_item.get(i.item_id, []))) for i in result.per_item]


def _clean(result: BenchmarkResult, contaminated: set[str] | None, seed: int) -> CleanView | None:
    """results.json's clean subset (score --exclude), else the one the --audit implies."""
    c = result.clean
    if c is not None:
        return CleanView(c.label, c.items, list(c.excluded_items), c.avg_at_k, c.ci95, c.maj_at_k)
    if contaminated is None:
        return None
    kept = [i for i in result.per_item if i.accuracy is not None and i.item_id not in contaminated]
    accuracies = [i.accuracy for i in kept if i.accuracy is not None]
    excluded = sorted(i.item_id for i in result.per_item if i.item_id in contaminated)
    if not accuracies:
        return CleanView("no training overlap (--audit)", 0, excluded, None, None, None)
    return CleanView("no training overlap (--audit)", len(accuracies), excluded,
                     sum(accuracies) / len(accuracies), bootstrap_ci(accuracies, seed),
                     sum(bool(i.majority_correct) for i in kept) / len(accuracies))


def _judge(result: BenchmarkResult) -> str | None:
    judge = result.extra_metrics.get("judge")
    if not isinstance(judge, Mapping):
        return None
    return f"{judge.get('model')} ({judge.get('prompt_version')})"


def benchmark_view(run: RunData, result: BenchmarkResult, items: Mapping[str, Item],
                   contamination: ContaminationView | None) -> BenchmarkView:
    rows = {i: dict(item.row) for i, item in items.items()}
    item_dates = dates.item_dates(result.benchmark, rows, [i.item_id for i in result.per_item])
    contaminated: set[str] | None = None
    if contamination is not None:
        contaminated = {c.item_id for group in (contamination.question_and_answer,
                        contamination.question_only, contamination.unknown) for c in group}
    total = sum(result.verdicts.values())
    clr, clr_detail = clr_metrics(result)
    return BenchmarkView(
        name=result.benchmark, title=result.title, grader=result.grader, judge=_judge(result),
        k=result.k, complete=result.complete, items_planned=result.items_planned,
        items_scored=result.items_scored, items_needing_judge=result.items_needing_judge,
        samples_done=result.samples_done, samples_planned=result.samples_planned,
        avg_at_k=result.avg_at_k, ci95=result.ci95, pass_at_k=list(result.pass_at_k.items()),
        maj_at_k=result.maj_at_k, clr=clr, clr_detail=clr_detail,
        no_answer_rate=result.no_answer_rate, truncation_rate=result.truncation_rate,
        ungraded_rate=result.ungraded_samples / total if total else None,
        ungraded_samples=result.ungraded_samples, mean_tokens=result.mean_response_tokens,
        references=references(result), citation=result.reference_citation,
        clean=_clean(result, contaminated, run.manifest.seeds.run_seed),
        contamination=contamination,
        problems=_problems(run, result, item_dates, contaminated or set()),
        summary=list(result.summary),
        warnings=list(result.warnings), date_source=dates.date_source(result.benchmark))


def build_scorecard(run: RunData, integrity: list[str], audit_dir: Path | None = None,
                    compare: CompareView | None = None, cutoff: date | None = None) -> Scorecard:
    items = _items(run)
    audit = load_audit(audit_dir) if audit_dir is not None else None
    views = []
    for result in run.results.benchmarks:
        mine = items.get(result.benchmark, {})
        contamination = (contamination_view(audit_dir, audit, result.benchmark, mine)
                         if audit is not None and audit_dir is not None else None)
        views.append(benchmark_view(run, result, mine, contamination))
    policies = [(f"{tag}: {name}", text) for tag, entries in run.results.policies.items()
                for name, text in entries.items()]
    complete = all(b.complete for b in run.results.benchmarks)
    return Scorecard(run_id=run.run_id, scored_at=run.results.scored_at, generated_at=now_iso(),
                     status="complete" if complete else "partial", benchmarks=views,
                     provenance=provenance_rows(run), policies=policies,
                     warnings=list(run.results.warnings), integrity=integrity, compare=compare,
                     cutoff=cutoff.isoformat() if cutoff else None,
                     freshness=freshness_view(run.path))

