"""`vt-eval compare`: per-benchmark paired difference of two runs, and what differs between them.

Both runs go through the gate's checks first (`verify_run`): exit 2, with the reasons, when either
is not verified (results.json disagrees with its per-sample files, a file or manifest record is
missing) or partial. The accuracies compared are recomputed from the per-sample files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from vt_eval import cli_options as options

NAME = "compare"
HELP = ("paired comparison of two runs (difference, 95% CI, p-value; differing config); exit 2 "
        "when either run is not verified or partial")
EXIT_OK, EXIT_UNTRUSTED = 0, 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_a", type=Path)
    p.add_argument("run_b", type=Path)
    p.add_argument("--intersection", action="store_true",
                   help="compare on the problems both runs scored (default: refuse if they differ)")
    options.add_seed(p, "the bootstrap and the permutations", "run A's seed, as the "
                     "scorecard's comparison")


def run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.fmt import pct, pp, pp_ci, pvalue
    from vt_eval.report.compare import compare_runs, untrusted
    from vt_eval.report.verify import verify_run
    a, b = verify_run(args.run_a), verify_run(args.run_b)
    refusals = [why for why in (untrusted(a), untrusted(b)) if why is not None]
    if refusals:
        for run in (a, b):
            for problem in run.problems:
                console.print(f"{run.path}: {problem}", highlight=False, markup=False)
        console.print(f"compare: refused (exit {EXIT_UNTRUSTED}): {refusals[0]}",
                      highlight=False, markup=False, soft_wrap=True)
        return EXIT_UNTRUSTED
    seed = args.seed if args.seed is not None else a.data.manifest.seeds.run_seed
    view = compare_runs(a, b, args.intersection, seed)
    table = Table(title=f"{a.data.run_id} − {b.data.run_id}", title_justify="left")
    for column in ("benchmark", "items", "A", "B", "A − B", "95% CI", "p"):
        table.add_column(column, justify="left" if column == "benchmark" else "right",
                         no_wrap=column == "benchmark")
    for r in view.rows:
        table.add_row(r.benchmark, str(r.items), pct(r.ours), pct(r.other), pp(r.difference),
                      pp_ci(r.ci95), pvalue(r.p_value))
    console.print(table)
    console.print(view.method, highlight=False, markup=False)
    for line in view.refused:
        console.print(f"note: {line}", highlight=False, markup=False)
    console.print("config/provenance that differ:" if view.config_differences else
                  "config/provenance: no differences", highlight=False, markup=False)
    for line in view.config_differences:
        console.print(f"  {line}", highlight=False, markup=False)
    console.print("both runs verified and complete: accuracies recomputed from their "
                  "per-sample files", highlight=False, markup=False)
    return EXIT_OK
