"""Does results.json follow from the run's other files? Anything that disagrees is listed.

Checks: the benchmarks and items are the plan's; per benchmark, the verdict counts, per-item
correct/sample counts and sample counts equal those recounted from scores.jsonl and samples.jsonl;
avg@k equals the mean of the per-item accuracies; the `complete` flag follows from the counts;
the files the aggregate stage read are byte-identical to those on disk now (sha256 recorded in the
manifest). A report shows these problems; the gate refuses the run (exit 2).
"""

from __future__ import annotations

from collections import Counter

from vt_eval.report.rundata import RunData
from vt_eval.results import BenchmarkResult
from vt_eval.util import sha256_file

TOLERANCE = 1e-9


def _stale_inputs(run: RunData) -> list[str]:
    aggregate = run.manifest.stages.get("aggregate")
    if aggregate is None:
        return ["manifest.json has no aggregate stage record: results.json's inputs are unknown"]
    problems = []
    for name in ("plan.json", "samples.jsonl", "scores.jsonl"):
        recorded = aggregate.inputs.get(name)
        path = run.path / name
        if recorded is None or not path.is_file():
            continue
        if sha256_file(path) != recorded:
            problems.append(f"{name} changed after results.json was written (sha256 differs from "
                            f"the aggregate stage's record); re-score the run")
    return problems


def _benchmark_problems(result: BenchmarkResult, run: RunData) -> list[str]:
    name = result.benchmark
    mine = [s for s in run.scores if s.benchmark == name]
    problems = []
    verdicts = Counter(s.verdict for s in mine)
    recorded = {v: c for v, c in result.verdicts.items() if c}
    if recorded != dict(verdicts):
        problems.append(f"{name}: verdict counts {recorded} differ from scores.jsonl {dict(verdicts)}")
    if run.samples:
        done = sum(1 for key in run.samples if key[0] == name)
        if done != result.samples_done:
            problems.append(f"{name}: samples_done {result.samples_done} but samples.jsonl holds "
                            f"{done}")
    if result.complete != (result.samples_done == result.samples_planned):
        problems.append(f"{name}: complete={result.complete} contradicts samples "
                        f"{result.samples_done}/{result.samples_planned}")
    problems += _item_problems(result, mine)
    return problems


def _item_problems(result: BenchmarkResult, scores: list) -> list[str]:
    name = result.benchmark
    per_item: dict[str, Counter[str]] = {}
    for score in scores:
        per_item.setdefault(score.item_id, Counter())[score.verdict] += 1
    problems = []
    for item in result.per_item:
        counted = per_item.get(item.item_id, Counter())
        if item.samples != sum(counted.values()) or item.correct != counted.get("correct", 0):
            problems.append(f"{name}/{item.item_id}: {item.correct}/{item.samples} correct in "
                            f"results.json, {counted.get('correct', 0)}/{sum(counted.values())} "
                            f"in scores.jsonl")
        elif item.accuracy is not None and abs(item.accuracy - item.correct / item.samples) > TOLERANCE:
            problems.append(f"{name}/{item.item_id}: accuracy {item.accuracy} is not "
                            f"{item.correct}/{item.samples}")
    accuracies = [i.accuracy for i in result.per_item if i.accuracy is not None]
    if accuracies and result.avg_at_k is not None:
        mean = sum(accuracies) / len(accuracies)
        if abs(mean - result.avg_at_k) > TOLERANCE:
            problems.append(f"{name}: avg@k {result.avg_at_k} is not the mean per-item accuracy "
                            f"{mean}")
    if len(accuracies) != result.items_scored:
        problems.append(f"{name}: items_scored {result.items_scored} but {len(accuracies)} items "
                        f"have an accuracy")
    return problems


def _plan_problems(run: RunData) -> list[str]:
    if run.plan is None:
        return ["plan.json is missing: the planned items cannot be checked"]
    planned = {b.name: b for b in run.plan.benchmarks}
    problems = []
    names = [b.benchmark for b in run.results.benchmarks]
    if sorted(names) != sorted(planned):
        problems.append(f"results.json benchmarks {sorted(names)} are not the plan's "
                        f"{sorted(planned)}")
    for result in run.results.benchmarks:
        plan = planned.get(result.benchmark)
        if plan is None:
            continue
        if result.items_planned != len(plan.item_ids) or result.k != plan.k:
            problems.append(f"{result.benchmark}: {result.items_planned} items x k={result.k} in "
                            f"results.json, {len(plan.item_ids)} x k={plan.k} in plan.json")
        stray = sorted({i.item_id for i in result.per_item} - set(plan.item_ids))
        if stray:
            problems.append(f"{result.benchmark}: items {stray[:5]} are not in the plan")
    return problems


def consistency_problems(run: RunData) -> list[str]:
    """Everything in results.json that does not follow from the other files (empty: consistent)."""
    problems = _stale_inputs(run) + _plan_problems(run)
    for result in run.results.benchmarks:
        problems += _benchmark_problems(result, run)
    return problems
