"""The grade stage: plan.json + samples.jsonl -> scores.jsonl. Needs no model and no GPU.

One grading process pool serves every benchmark of the run (started on first use)."""

from __future__ import annotations

import time
from dataclasses import replace

from vt_eval.data import Item
from vt_eval.grading import get_grader
from vt_eval.grading.base import GradeTask, GradingOptions
from vt_eval.grading.ray_grading import grading_pool
from vt_eval.planning import PlannedData, reload_benchmark, require_plan
from vt_eval.records import Sample, Score
from vt_eval.stages.base import Stage, StageContext, StageOutcome
from vt_eval.store import read_records, repair_tail, write_records_atomic


def grading_options(ctx: StageContext) -> GradingOptions:
    given = ctx.settings.get("grading")
    if isinstance(given, GradingOptions):
        return given
    g = ctx.config.grading
    return GradingOptions(g.timeout_s, g.workers, g.unsafe_no_sandbox)


def load_samples(ctx: StageContext) -> tuple[list[Sample], list[str]]:
    notes = []
    repair = repair_tail(ctx.run.samples_path)
    if repair:
        notes.append(str(repair))
    unique: dict[tuple[str, str, int], Sample] = {}
    duplicates = 0
    for sample in read_records(ctx.run.samples_path, Sample):
        if sample.key in unique:
            duplicates += 1
            continue
        unique[sample.key] = sample
    if duplicates:
        notes.append(f"{duplicates} duplicate sample line(s) ignored (first copy kept)")
    return list(unique.values()), notes


class GradeStage(Stage):
    name = "grade"
    reads = ("plan.json", "samples.jsonl")
    writes = ("scores.jsonl",)

    def settings(self, ctx: StageContext) -> dict[str, object]:
        options = grading_options(ctx)
        return {"timeout_s": options.timeout_s, "unsafe_no_sandbox": options.unsafe_no_sandbox}

    def execute(self, ctx: StageContext) -> StageOutcome:
        plan = require_plan(ctx.run.path)
        data = [reload_benchmark(b) for b in plan.benchmarks]
        samples, warnings = load_samples(ctx)
        planned = {(d.card.name, item.id): item for d in data for item in d.loaded.items}
        k_of = {d.card.name: d.k for d in data}
        inside = [s for s in samples if (s.benchmark, s.item_id) in planned
                  and s.sample_index < k_of[s.benchmark]]
        if len(inside) < len(samples):
            warnings.append(f"{len(samples) - len(inside)} sample(s) in samples.jsonl are outside "
                            f"this run's current plan (limit/k/benchmarks changed) and are not "
                            f"scored")
        options = grading_options(ctx)
        if options.unsafe_no_sandbox and any(get_grader(d.card.grader).name == "code" for d in data):
            warnings.append("UNSAFE: generated code ran WITHOUT the bubblewrap sandbox "
                            "(--unsafe-no-sandbox)")
        scores: list[Score] = []
        seconds: dict[str, float] = {}
        with grading_pool(ctx.config.ray, options.workers, options.timeout_s) as pool:
            shared = replace(options, pool=pool)
            for benchmark in data:
                started = time.perf_counter()
                scores.extend(self._grade(ctx, benchmark, inside, planned, shared))
                seconds[benchmark.card.name] = round(time.perf_counter() - started, 3)
        write_records_atomic(ctx.run.scores_path, scores)
        verdicts: dict[str, int] = {}
        for score in scores:
            verdicts[score.verdict] = verdicts.get(score.verdict, 0) + 1
        graders = {d.card.name: get_grader(d.card.grader) for d in data}
        facts = {name: grader.provenance([s for s in scores if s.benchmark == name])
                 for name, grader in graders.items()}
        return StageOutcome(counts={"samples": len(scores), **verdicts},
                            versions={name: grader.tag for name, grader in graders.items()},
                            details={"warnings": warnings, "seconds": seconds,
                                     "graders": {k: v for k, v in facts.items() if v}})

    @staticmethod
    def _grade(ctx: StageContext, benchmark: PlannedData, samples: list[Sample],
               items: dict[tuple[str, str], Item], options: GradingOptions) -> list[Score]:
        card = benchmark.card
        grader = get_grader(card.grader)
        mine = [s for s in samples if s.benchmark == card.name]
        ctx.log(f"grading {card.name}: {len(mine)} samples")
        tasks = [GradeTask(card, items[(s.benchmark, s.item_id)], s) for s in mine]
        return sorted(grader.grade(tasks, options), key=lambda sc: sc.key)
