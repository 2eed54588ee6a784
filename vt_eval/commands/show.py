"""`vt-eval show`: one problem's samples with verdicts and explanations."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

NAME = "show"
EXIT_USAGE = 2
HELP = "print one problem's samples with verdicts and explanations"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path)
    p.add_argument("--problem", required=True, help="item id (see results.json per_item)")
    p.add_argument("--benchmark", help="needed when several benchmarks share the id")
    p.add_argument("--sample", type=int, help="only this sample index")
    p.add_argument("--tail", type=int, default=1200, help="response characters to show")


def run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.records import Sample, Score
    from vt_eval.rundir import RunDir
    from vt_eval.store import read_records
    from vt_eval.terminal import print_sample
    run = RunDir(args.run_dir)
    run.load_config()
    scores = {s.key: s for s in read_records(run.scores_path, Score)}
    shown = 0
    present: dict[str, set[str]] = {}
    for sample in read_records(run.samples_path, Sample):
        present.setdefault(sample.benchmark, set()).add(sample.item_id)
        if sample.item_id != args.problem or (args.benchmark and sample.benchmark != args.benchmark):
            continue
        if args.sample is not None and sample.sample_index != args.sample:
            continue
        print_sample(console, sample, scores.get(sample.key), args.tail)
        shown += 1
    if not shown:
        listing = "; ".join(f"{name}: {', '.join(sorted(ids)[:20])}" + (" …" if len(ids) > 20 else "")
                            for name, ids in sorted(present.items()))
        console.print(f"no samples for problem '{args.problem}' in {run.path}; problems in this "
                      f"run: {listing or 'none yet'}", highlight=False, markup=False)
        return EXIT_USAGE
    return 0
