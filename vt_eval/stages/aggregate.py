"""The aggregate stage: plan.json + samples.jsonl + scores.jsonl (+ judge.json) -> results.json.

With `settings["exclude"]` (contaminated item ids by benchmark, from a decontamination audit), each
benchmark also gets the clean-subset score. Grader-specific metrics and summary lines come from the
grader's hooks; warnings from the earlier stages' reports in the manifest.
"""

from __future__ import annotations

import json
from typing import Any

from vt_eval.fmt import pct
from vt_eval.grading import get_grader
from vt_eval.grading.base import GradeTask
from vt_eval.planning import PlannedData, reload_benchmark, require_plan
from vt_eval.records import Sample, Score
from vt_eval.results import BenchmarkResult, RunResults
from vt_eval.stages.base import Stage, StageContext, StageOutcome
from vt_eval.store import read_records
from vt_eval.summary import METRIC_POLICIES, benchmark_result, headline, rule_graded
from vt_eval.util import now_iso, sha256_file, write_json_atomic


def _scores_bound(ctx: StageContext, name: str) -> dict[str, Any] | None:
    """A stage's file over scores.jsonl (judge.json, clr.json) when it belongs to the current
    scores.jsonl (its "scores_sha256"), else None (stale)."""
    path = ctx.run.file(name)
    if not path.is_file() or not ctx.run.scores_path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if data.get("scores_sha256") == sha256_file(ctx.run.scores_path) else None


def judge_line(metrics: dict[str, Any]) -> str | None:
    if not metrics.get("judged_samples"):
        return None
    rule, final, agree = metrics["rule_graded"], metrics["judge_graded"], metrics["agreement"]
    return (f"judge {metrics['model']} ({metrics['prompt_version']}): rule-graded avg@k "
            f"{pct(rule['avg_at_k'])} on {rule['items_scored']} items, judge-graded "
            f"{pct(final['avg_at_k'])} on {final['items_scored']}; {metrics['judged_samples']} "
            f"samples judged, {metrics['judge_errors']} judge_error, agreement "
            f"{agree['agreed']}/{agree['samples']}")


class AggregateStage(Stage):
    name = "aggregate"
    reads = ("plan.json", "samples.jsonl", "scores.jsonl", "judge.json", "clr.json")
    writes = ("results.json",)

    def settings(self, ctx: StageContext) -> Any:
        exclude = ctx.settings.get("exclude")
        return {k: sorted(v) for k, v in exclude.items()} if exclude is not None else None

    def execute(self, ctx: StageContext) -> StageOutcome:
        plan = require_plan(ctx.run.path)
        samples = {s.key: s for s in read_records(ctx.run.samples_path, Sample)}
        scores = list(read_records(ctx.run.scores_path, Score))
        judge = _scores_bound(ctx, "judge.json")
        clr = _scores_bound(ctx, "clr.json")
        manifest = ctx.run.manifest()
        warnings = [w for report in manifest.stages.values()
                    for w in report.details.get("warnings", [])]
        warnings += [f"skipped {name}: {why}" for name, why in plan.skipped.items()]
        if clr is None and ctx.run.file("clr.json").is_file():
            warnings.append("clr.json was made from other scores (re-graded or judged since), so "
                            "CLR is not shown: `vt-eval clr RUN` redoes it from the recorded calls")
        results, policies = [], {"metrics": METRIC_POLICIES}
        for planned in plan.benchmarks:
            data = reload_benchmark(planned)
            mine = [s for s in scores if s.benchmark == planned.name]
            results.append(self._benchmark(ctx, data, samples, mine, plan.run_seed, judge, clr))
            grader = get_grader(data.card.grader)
            policies[grader.tag] = dict(grader.policies)
        if judge is not None:
            policies["judge"] = {"merge": judge["policy"]}
        if clr is not None:
            policies["clr"] = clr["choices"]
        summary = RunResults(run_id=ctx.run.path.name, scored_at=now_iso(),
                             graders={b.name: b.grader for b in plan.benchmarks},
                             policies=policies, benchmarks=results, warnings=warnings)
        write_json_atomic(ctx.run.results_path, summary.model_dump(mode="json"))
        ctx.run.update_manifest(status="scored")
        return StageOutcome(counts={"benchmarks": len(results)})

    @staticmethod
    def _benchmark(ctx: StageContext, data: PlannedData, samples: dict[tuple[str, str, int], Sample],
                   scores: list[Score], seed: int, judge: dict[str, Any] | None,
                   clr: dict[str, Any] | None = None) -> BenchmarkResult:
        card, items = data.card, list(data.loaded.items)
        grader = get_grader(card.grader)
        exclude = ctx.settings.get("exclude")
        excluded = exclude.get(card.name, set()) if exclude is not None else None
        mine = [samples[s.key] for s in scores if s.key in samples]
        notes = [str(p) for p in data.loaded.problems]

        def result_of(graded: list[Score]) -> BenchmarkResult:
            return benchmark_result(card, grader.tag, items, data.k, mine, graded, notes, seed,
                                    excluded)

        result = result_of(scores)
        by_id = {i.id: i for i in items}
        tasks = [GradeTask(card, by_id[s.item_id], samples[s.key]) for s in scores
                 if s.key in samples and s.item_id in by_id]
        extra: dict[str, Any] = {}
        lines: list[str] = []
        metrics = grader.extra_metrics(tasks, scores)
        if metrics is not None:
            extra[grader.name] = metrics.model_dump(mode="json")
            lines += grader.summary_lines(extra[grader.name])
        judged = (judge or {}).get("benchmarks", {}).get(card.name)
        if judged is not None:
            extra["judge"] = {**judged, "rule_graded": headline(result_of(rule_graded(scores))),
                              "judge_graded": headline(result)}
            line = judge_line(extra["judge"])
            lines += [line] if line else []
        clr_entry = (clr or {}).get("benchmarks", {}).get(card.name)
        if clr_entry is not None:  # the CLR stage's metrics and lines (vt_eval/stages/clr.py)
            extra["clr"] = clr_entry["results"]
            lines += clr_entry["summary"]
        return result.model_copy(update={"extra_metrics": extra, "summary": lines})
