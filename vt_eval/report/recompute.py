"""The figures a verdict rests on, recomputed from the per-sample files (never from results.json).

plan.json defines the run: each benchmark's item ids and k, hence its planned samples. A benchmark
is complete when every planned sample is in samples.jsonl and scores.jsonl exactly once. The
metrics come from `summary.benchmark_result`, the function the aggregate stage itself uses, fed
with plan.json + scores.jsonl + samples.jsonl and seeded with the plan's run seed, so an honest
results.json equals the recomputation field for field.

Also listed as problems: samples or scores outside the plan or present twice, a score without its
sample, and a `truncated` verdict that does not match the sample's finish reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from vt_eval.cards import get_card
from vt_eval.data import Item
from vt_eval.errors import DataError, VtEvalError
from vt_eval.planning import PlannedBenchmark
from vt_eval.records import Sample, Score
from vt_eval.report.rundata import RunData, SampleKey
from vt_eval.results import BenchmarkResult
from vt_eval.summary import benchmark_result

SHOWN = 5  # keys listed per problem


@dataclass(frozen=True)
class VerifiedBenchmark:
    name: str
    k: int
    items_planned: int
    samples_planned: int  # planned item ids x k
    samples_complete: int  # planned samples with exactly one sample and one score
    complete: bool  # every planned sample present exactly once
    recomputed: BenchmarkResult  # from the per-sample files; extra_metrics and summary empty


def _keys(keys: list[SampleKey]) -> str:
    shown = ", ".join(f"{b}/{i}#{n}" for b, i, n in keys[:SHOWN])
    return shown + (f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else "")


def planned_keys(planned: PlannedBenchmark) -> set[SampleKey]:
    return {(planned.name, item, index) for item in planned.item_ids for index in range(planned.k)}


def _plan_problems(run: RunData) -> list[str]:
    problems = []
    named = Counter(b.name for b in run.plan.benchmarks)
    twice_named = sorted(n for n, c in named.items() if c > 1)
    if twice_named:
        problems.append(f"plan.json lists benchmarks twice: {twice_named}")
    for planned in run.plan.benchmarks:
        twice = sorted(i for i, c in Counter(planned.item_ids).items() if c > 1)
        if twice:
            problems.append(f"plan.json: {planned.name} lists items twice: {twice[:SHOWN]}")
        if planned.k < 1 or not planned.item_ids:
            problems.append(f"plan.json: {planned.name} plans no sample (k={planned.k}, "
                            f"{len(planned.item_ids)} items)")
    return problems


def _file_problems(run: RunData, planned: set[SampleKey]) -> list[str]:
    """Samples and scores that do not fit the plan, or each other."""
    problems = []
    score_counts = Counter(s.key for s in run.scores)
    twice = sorted(k for k, c in score_counts.items() if c > 1)
    if twice:
        problems.append(f"scores.jsonl holds {len(twice)} samples more than once: {_keys(twice)}")
    if run.duplicate_samples:
        problems.append(f"samples.jsonl holds {len(set(run.duplicate_samples))} samples more than "
                        f"once: {_keys(sorted(set(run.duplicate_samples)))}")
    for name, keys in (("scores.jsonl", score_counts), ("samples.jsonl", run.samples)):
        stray = sorted(k for k in keys if k not in planned)
        if stray:
            problems.append(f"{name} holds {len(stray)} samples that are not in plan.json: "
                            f"{_keys(stray)}")
    unbacked = sorted(k for k in score_counts if k not in run.samples)
    if unbacked:
        problems.append(f"scores.jsonl scores {len(unbacked)} samples that samples.jsonl does not "
                        f"hold: {_keys(unbacked)}")
    mismatched = sorted(s.key for s in run.scores if s.key in run.samples and (
        (s.verdict == "truncated") != (run.samples[s.key].finish_reason == "length")))
    if mismatched:
        problems.append(f"{len(mismatched)} verdicts disagree with samples.jsonl on truncation "
                        f"(verdict `truncated` if and only if finish_reason is `length`): "
                        f"{_keys(mismatched)}")
    golds: dict[tuple[str, str], set[str]] = {}
    for score in run.scores:
        golds.setdefault((score.benchmark, score.item_id), set()).add(score.gold)
    split = sorted(f"{b}/{i}" for (b, i), g in golds.items() if len(g) > 1)
    if split:
        problems.append(f"scores.jsonl gives items more than one gold answer: {split[:SHOWN]}")
    return problems


def _as_sample(run: RunData, key: SampleKey) -> Sample:
    """What `benchmark_result` reads of a sample (its count and token count), from the digest."""
    digest = run.samples[key]
    # every field given: model_construct filling defaults costs more than the recomputation
    return Sample.model_construct(benchmark=key[0], item_id=key[1], sample_index=key[2], seed=0,
                                  messages=[], prompt_extra={}, response="",
                                  finish_reason=digest.finish_reason, prompt_tokens=None,
                                  completion_tokens=digest.completion_tokens, latency_s=None,
                                  created_at="", replaced_surrogates=0)


def _benchmark(run: RunData, planned: PlannedBenchmark,
               recorded: BenchmarkResult | None) -> VerifiedBenchmark:
    try:
        card = get_card(planned.name)
    except VtEvalError as exc:
        raise DataError(f"plan.json: benchmark {planned.name}: {exc}") from exc
    scores = [s for s in run.scores if s.benchmark == planned.name]
    gold = {s.item_id: s.gold for s in scores}
    items = [Item(item_id, "", gold.get(item_id, "")) for item_id in planned.item_ids]
    samples = [_as_sample(run, s.key) for s in scores if s.key in run.samples]
    # the clean subset is checked against the exclusion results.json names (the audit that
    # chose it is not part of the run)
    exclude = set(recorded.clean.excluded_items) if recorded and recorded.clean else None
    notes = [str(p) for p in planned.dataset.get("row_problems", [])]
    result = benchmark_result(card, planned.grader, items, planned.k, samples, scores, notes,
                              run.plan.run_seed, exclude)
    counts = Counter(s.key for s in scores)
    keys = planned_keys(planned)
    done = sum(1 for key in keys if counts.get(key) == 1 and key in run.samples
               and key not in run.duplicate_samples)
    return VerifiedBenchmark(name=planned.name, k=planned.k, items_planned=len(planned.item_ids),
                             samples_planned=len(keys), samples_complete=done,
                             complete=bool(keys) and done == len(keys), recomputed=result)


def recompute(run: RunData) -> tuple[dict[str, VerifiedBenchmark], list[str]]:
    """Every planned benchmark recomputed (plan order), and the problems of the per-sample files."""
    recorded = {b.benchmark: b for b in run.results.benchmarks}
    planned: set[SampleKey] = set()
    for benchmark in run.plan.benchmarks:
        planned |= planned_keys(benchmark)
    verified = {b.name: _benchmark(run, b, recorded.get(b.name)) for b in run.plan.benchmarks}
    return verified, _plan_problems(run) + _file_problems(run, planned)
