"""Does results.json follow from the run's per-sample files? Anything that disagrees is listed.

Checks: the files the aggregate stage read (plan.json, samples.jsonl, scores.jsonl) are
byte-identical to those on disk now, by the sha256 the manifest recorded (a missing record is a
problem, never a skipped check); the per-sample files fit the plan and each other
(`recompute`); results.json's benchmarks and graders are the plan's; every figure of every
benchmark (completeness, counts, avg@k, CI, pass@k, maj@k, verdict counts, rates, per-item rows,
clean subset, data warnings) equals the recomputation; the run-level warnings the manifest and
plan imply are all there. Not checked: `extra_metrics` and `summary` (grader, judge and CLR
add-ons), and the published reference figures (from the benchmark card). A report shows these
problems under a banner and exits 2; the gate, compare and verdict refuse the run (exit 2).
"""

from __future__ import annotations

import math
from typing import Any

from vt_eval.report.recompute import VerifiedBenchmark, recompute
from vt_eval.report.rundata import RunData
from vt_eval.results import BenchmarkResult
from vt_eval.util import sha256_file

TOLERANCE = 1e-9
HASHED_INPUTS = ("plan.json", "samples.jsonl", "scores.jsonl")
# BenchmarkResult fields not recomputed: add-ons and the card's published figures.
NOT_RECOMPUTED = frozenset({"title", "reference", "reference_citation", "extra_metrics", "summary"})
LABELS = {"avg_at_k": "avg@k", "maj_at_k": "maj@k", "ci95": "ci95", "pass_at_k": "pass@k"}


def stale_inputs(run: RunData) -> list[str]:
    aggregate = run.manifest.stages.get("aggregate")
    if aggregate is None:
        return ["manifest.json has no aggregate stage record: which files results.json was made "
                "from is unknown; re-score the run"]
    problems = []
    for name in HASHED_INPUTS:
        recorded = aggregate.inputs.get(name)
        if not recorded:
            problems.append(f"manifest.json's aggregate record has no sha256 of {name}: cannot "
                            f"tell whether results.json was made from the {name} on disk")
        elif sha256_file(run.path / name) != recorded:
            problems.append(f"{name} changed after results.json was written (sha256 differs from "
                            f"the aggregate stage's record); re-score the run")
    return problems


def _differences(recorded: Any, computed: Any, where: str) -> list[tuple[str, Any, Any]]:
    if isinstance(recorded, dict) and isinstance(computed, dict):
        out = []
        for key in sorted(set(recorded) | set(computed), key=str):
            out += _differences(recorded.get(key), computed.get(key), f"{where}.{key}")
        return out
    if isinstance(recorded, list) and isinstance(computed, list) and len(recorded) == len(computed):
        inner = [d for i, (r, c) in enumerate(zip(recorded, computed))
                 for d in _differences(r, c, f"{where}[{i}]")]
        flat = not any(isinstance(v, (dict, list)) for v in recorded + computed)
        return [(where, recorded, computed)] if inner and flat else inner  # ci95 as one pair
    numbers = (int, float)
    if (isinstance(recorded, numbers) and isinstance(computed, numbers)
            and not isinstance(recorded, bool) and not isinstance(computed, bool)):
        same = math.isclose(recorded, computed, rel_tol=0, abs_tol=TOLERANCE)
        return [] if same else [(where, recorded, computed)]
    return [] if recorded == computed else [(where, recorded, computed)]


def _item_problems(name: str, recorded: list[dict], computed: list[dict]) -> list[str]:
    mine = {i.get("item_id"): i for i in recorded}
    theirs = {i["item_id"]: i for i in computed}
    problems = []
    missing = sorted(set(theirs) - set(mine), key=str)
    extra = sorted(set(mine) - set(theirs), key=str)
    if missing:
        problems.append(f"{name}: per_item lacks items {missing[:5]} that scores.jsonl scores")
    if extra:
        problems.append(f"{name}: per_item lists items {extra[:5]} that scores.jsonl does not "
                        f"score")
    if len(recorded) != len(mine):
        problems.append(f"{name}: per_item lists an item more than once")
    for item_id in [i for i in theirs if i in mine]:
        r, c = mine[item_id], theirs[item_id]
        if (r.get("correct"), r.get("samples")) != (c["correct"], c["samples"]):
            problems.append(f"{name}/{item_id}: {r.get('correct')}/{r.get('samples')} correct in "
                            f"results.json, {c['correct']}/{c['samples']} in scores.jsonl")
        problems += [f"{name}/{item_id}: {path.lstrip('.')} is {a!r} in results.json, {b!r} "
                     f"recomputed from scores.jsonl"
                     for path, a, b in _differences(r, c, "")
                     if path.lstrip(".") not in ("correct", "samples")]
    if [i.get("item_id") for i in recorded] != [i["item_id"] for i in computed] and \
            not (missing or extra) and len(recorded) == len(mine):
        problems.append(f"{name}: per_item is not in plan order")
    return problems


def figure_problems(recorded: BenchmarkResult, verified: VerifiedBenchmark) -> list[str]:
    """Every recomputed field of one benchmark that results.json states differently."""
    name = recorded.benchmark
    mine = recorded.model_dump(mode="json", exclude=set(NOT_RECOMPUTED))
    theirs = verified.recomputed.model_dump(mode="json", exclude=set(NOT_RECOMPUTED))
    problems = _item_problems(name, mine.pop("per_item"), theirs.pop("per_item"))
    if recorded.complete != verified.complete and recorded.complete == theirs["complete"]:
        problems.append(f"{name}: complete={recorded.complete} but {verified.samples_complete} of "
                        f"{verified.samples_planned} planned samples are present exactly once")
    for path, a, b in _differences(mine, theirs, ""):
        field = path.lstrip(".")
        if field == "avg_at_k":
            problems.append(f"{name}: avg@k {a} is not the mean per-item accuracy {b} recomputed "
                            f"from scores.jsonl")
        else:
            problems.append(f"{name}: {LABELS.get(field, field)} is {a!r} in results.json, {b!r} "
                            f"recomputed from plan.json, samples.jsonl and scores.jsonl")
    return problems


def _run_problems(run: RunData) -> list[str]:
    planned = [b.name for b in run.plan.benchmarks]
    names = [b.benchmark for b in run.results.benchmarks]
    problems = []
    if sorted(names) != sorted(planned):
        problems.append(f"results.json benchmarks {sorted(names)} are not the plan's "
                        f"{sorted(planned)}")
    graders = {b.name: b.grader for b in run.plan.benchmarks}
    if dict(run.results.graders) != graders:
        problems.append(f"results.json graders {dict(run.results.graders)} are not the plan's "
                        f"{graders}")
    implied = [w for report in run.manifest.stages.values()
               for w in report.details.get("warnings", [])]
    implied += [f"skipped {name}: {why}" for name, why in run.plan.skipped.items()]
    dropped = [w for w in implied if w not in run.results.warnings]
    if dropped:
        problems.append(f"results.json lacks {len(dropped)} warnings the run recorded, e.g. "
                        f"{dropped[0][:200]!r}")
    return problems


def check(run: RunData) -> tuple[dict[str, VerifiedBenchmark], list[str]]:
    """The recomputed benchmarks, and every problem found (empty: results.json is vouched for)."""
    verified, problems = recompute(run)
    problems = stale_inputs(run) + problems + _run_problems(run)
    for recorded in run.results.benchmarks:
        if recorded.benchmark in verified:
            problems += figure_problems(recorded, verified[recorded.benchmark])
    return verified, problems


def consistency_problems(run: RunData) -> list[str]:
    """Everything in results.json that does not follow from the other files (empty: consistent)."""
    return check(run)[1]
