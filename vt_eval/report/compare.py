"""Two runs, benchmark by benchmark: paired test over the same problems, and what differs.

Both runs must be verified (`verify.verify_run`: results.json agrees with the per-sample files)
and complete; the per-problem accuracies come from the recomputation, never from results.json.
"""

from __future__ import annotations

from vt_eval.errors import DataError
from vt_eval.report.provenance import identity
from vt_eval.report.rundata import RunData
from vt_eval.report.stats import method_text, paired_test
from vt_eval.report.verify import VerifiedRun
from vt_eval.report.view import CompareRow, CompareView
from vt_eval.results import BenchmarkResult

# Fields expected to differ between any two runs: not listed.
IGNORED_PREFIXES = ("git.dirty", "packages.")


def _accuracies(result: BenchmarkResult) -> dict[str, float]:
    return {i.item_id: i.accuracy for i in result.per_item if i.accuracy is not None}


def config_differences(a: RunData, b: RunData) -> list[str]:
    left, right = identity(a), identity(b)
    out = []
    for key in sorted(set(left) | set(right)):
        if left.get(key) != right.get(key):
            out.append(f"{key}: {left.get(key, '(unset)')} → {right.get(key, '(unset)')}")
    package = [d for d in out if d.startswith("packages.")]
    return [d for d in out if not d.startswith(IGNORED_PREFIXES)] + package


def untrusted(run: VerifiedRun, role: str = "run") -> str | None:
    """Why `run` cannot be compared (not verified, or partial), or None."""
    if not run.verified:
        shown = "; ".join(run.problems[:3]) + (f"; and {len(run.problems) - 3} more"
                                               if len(run.problems) > 3 else "")
        return f"{role} {run.path} is not verified: {shown}"
    if not run.complete:
        return (f"{role} {run.path} is partial ({', '.join(run.partial())}): a difference to a "
                f"partial run says nothing; finish it (`vt-eval run` resumes) first")
    return None


def compare_runs(a: VerifiedRun, b: VerifiedRun, intersection: bool = False,
                 seed: int = 0) -> CompareView:
    """Raises DataError when either run is not verified or partial, and when a benchmark's item
    sets differ and `intersection` is off."""
    for run in (a, b):
        why = untrusted(run)
        if why is not None:
            raise DataError(why)
    theirs = {name: r.recomputed for name, r in b.benchmarks.items()}
    rows, refused = [], []
    for mine in (r.recomputed for r in a.benchmarks.values()):
        other = theirs.get(mine.benchmark)
        if other is None:
            refused.append(f"{mine.benchmark}: not in {b.data.run_id}")
            continue
        acc_a, acc_b = _accuracies(mine), _accuracies(other)
        if set(acc_a) != set(acc_b) and not intersection:
            only_a, only_b = sorted(set(acc_a) - set(acc_b)), sorted(set(acc_b) - set(acc_a))
            more_a, more_b = ("…" if len(only_a) > 5 else ""), ("…" if len(only_b) > 5 else "")
            raise DataError(f"{mine.benchmark}: the runs scored different problems (only in "
                            f"{a.data.run_id}: {only_a[:5]}{more_a}; only "
                            f"in {b.data.run_id}: {only_b[:5]}{more_b}); "
                            f"a paired comparison needs the same problems. Use --intersection to "
                            f"compare the problems both scored")
        common = sorted(set(acc_a) & set(acc_b))
        if not common:
            refused.append(f"{mine.benchmark}: no problem scored in both runs")
            continue
        test = paired_test([acc_a[i] for i in common], [acc_b[i] for i in common], seed)
        rows.append(CompareRow(mine.benchmark, test.items, test.mean_a, test.mean_b,
                               test.difference, test.ci95, test.p_value))
        if len(common) < max(len(acc_a), len(acc_b)):
            refused.append(f"{mine.benchmark}: compared on the {len(common)} problems both runs "
                           f"scored (--intersection)")
    refused += [f"{name}: not in {a.data.run_id}" for name in theirs if name not in a.benchmarks]
    return CompareView(other_run=str(b.path), method=method_text(seed), rows=rows,
                       refused=refused, config_differences=config_differences(a.data, b.data))
