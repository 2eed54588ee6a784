"""Which problems CLR runs on, each with its pool of trajectories, and which of them it calls on.

A problem's pool is its samples that were generated and scored within the plan's k. Benchmarks
graded by something other than CLR_GRADERS (code, IFEval) are skipped, as in the report. An item
with a needs_judge/judge_error score is left out of the metrics (as avg@k leaves it out) and gets
no calls; so is one the judge settled (its answers carry no cluster key to vote with). A
repetition's K are the first K of its seeded draw order; the calls made are those of the union
of all repetitions' K (only the answered ones, with answered_only: a trajectory with no
answer cluster votes for nothing, so its reliability cannot change the choice).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vt_eval.clr.aggregation import draw_order, problem_rng
from vt_eval.planning import PlanRecord
from vt_eval.records import Sample, Score

CLR_GRADERS = ("math", "gpqa")  # grader names CLR applies to (math, short answers, multiple choice)
UNSETTLED = ("needs_judge", "judge_error")


@dataclass(frozen=True)
class Problem:
    benchmark: str
    item_id: str
    samples: tuple[Sample, ...]  # the pool, ascending sample index
    scores: dict[int, Score]  # by sample index
    settled: bool

    def answered(self, sample: Sample) -> bool:
        return self.scores[sample.sample_index].cluster is not None


def _unsettled(score: Score) -> bool:
    """Rules could not settle it; also after a judge did, since judged answers have no cluster."""
    return score.verdict in UNSETTLED or score.details.get("rule_verdict") in UNSETTLED


def skipped_benchmarks(plan: PlanRecord) -> dict[str, str]:
    return {b.name: f"CLR applies to {' and '.join(CLR_GRADERS)} benchmarks, not to "
                    f"{b.grader} ones (as in the report)"
            for b in plan.benchmarks if b.grader.split("/")[0] not in CLR_GRADERS}


def build_problems(plan: PlanRecord, samples: Iterable[Sample], scores: Iterable[Score]
                   ) -> dict[str, list[Problem]]:
    """The CLR benchmarks' problems by benchmark, in plan order (those without samples left out)."""
    skipped = skipped_benchmarks(plan)
    by_key = {s.key: s for s in samples}
    grouped: dict[tuple[str, str], list[Score]] = {}
    for score in scores:
        grouped.setdefault((score.benchmark, score.item_id), []).append(score)
    out: dict[str, list[Problem]] = {}
    for planned in plan.benchmarks:
        if planned.name in skipped:
            continue
        problems = []
        for item_id in planned.item_ids:
            mine = [s for s in grouped.get((planned.name, item_id), [])
                    if s.key in by_key and s.sample_index < planned.k]
            if not mine:
                continue
            mine.sort(key=lambda s: s.sample_index)
            problems.append(Problem(planned.name, item_id, tuple(by_key[s.key] for s in mine),
                                    {s.sample_index: s for s in mine},
                                    not any(_unsettled(s) for s in mine)))
        out[planned.name] = problems
    return out


def drawn_samples(problem: Problem, k: int, repetitions: int, run_seed: int) -> list[Sample]:
    """The union of the R draws of K (the same seeded orders aggregation uses), by sample index."""
    chosen: set[int] = set()
    for repetition in range(repetitions):
        rng = problem_rng(run_seed, repetition, problem.benchmark, problem.item_id)
        chosen.update(draw_order(len(problem.samples), rng)[:k])
    return [problem.samples[i] for i in sorted(chosen)]


def needing_calls(problems: Sequence[Problem], k: int, repetitions: int, run_seed: int,
                  answered_only: bool) -> list[Sample]:
    todo = []
    for problem in problems:
        if not problem.settled:
            continue
        for sample in drawn_samples(problem, k, repetitions, run_seed):
            if problem.answered(sample) or not answered_only:
                todo.append(sample)
    return todo
