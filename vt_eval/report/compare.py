"""Two runs, benchmark by benchmark: paired test over the same problems, and what differs."""

from __future__ import annotations

from vt_eval.errors import DataError
from vt_eval.report.provenance import identity
from vt_eval.report.rundata import RunData
from vt_eval.report.stats import method_text, paired_test
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


def compare_runs(a: RunData, b: RunData, intersection: bool = False,
                 seed: int = 0) -> CompareView:
    """Raises DataError when a benchmark's item sets differ and `intersection` is off."""
    theirs = {r.benchmark: r for r in b.results.benchmarks}
    rows, refused = [], []
    for mine in a.results.benchmarks:
        other = theirs.get(mine.benchmark)
        if other is None:
            refused.append(f"{mine.benchmark}: not in {b.run_id}")
            continue
        acc_a, acc_b = _accuracies(mine), _accuracies(other)
        if set(acc_a) != set(acc_b) and not intersection:
            only_a, only_b = sorted(set(acc_a) - set(acc_b)), sorted(set(acc_b) - set(acc_a))
            raise DataError(f"{mine.benchmark}: the runs scored different problems (only in "
                            f"{a.run_id}: {only_a[:5]}{'…' if len(only_a) > 5 else ''}; only in "
                            f"{b.run_id}: {only_b[:5]}{'…' if len(only_b) > 5 else ''}); a paired "
                            f"comparison needs the same problems. Use --intersection to compare "
                            f"the problems both scored")
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
    refused += [f"{name}: not in {a.run_id}" for name in theirs
                if name not in {r.benchmark for r in a.results.benchmarks}]
    return CompareView(other_run=str(b.path), method=method_text(seed), rows=rows,
                       refused=refused, config_differences=config_differences(a, b))
