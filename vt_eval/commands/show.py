"""`vt-eval show`: one problem's samples with verdicts and explanations.

Model text is data: terminal control sequences in it (ANSI escapes, OSC hyperlinks and titles,
carriage returns, other C0/C1 controls) are removed before printing, and their number is shown.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from vt_eval.records import Sample, Score

NAME = "show"
EXIT_USAGE = 2
HELP = "print one problem's samples with verdicts and explanations"
# CSI (ESC [ ... final byte), OSC / DCS / PM / APC strings (up to BEL or ST), any other escape,
# then the remaining C0 controls but tab and newline, DEL and the C1 controls.
CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
                     r"|\x1b[ -/]*[0-~]?|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> tuple[str, int]:
    """`text` without terminal control sequences, and how many were removed."""
    return CONTROL.subn("", text)


def _safe(sample: Sample, score: Score | None) -> tuple[Sample, Score | None, int]:
    response, removed = strip_controls(sample.response)
    messages = []
    for message in sample.messages:
        cleaned = {key: strip_controls(value) for key, value in message.items()}
        messages.append({key: text for key, (text, _) in cleaned.items()})
        removed += sum(n for _, n in cleaned.values())
    sample = sample.model_copy(update={"response": response, "messages": messages})
    if score is not None:
        explanation, n = strip_controls(score.explanation)
        score, removed = score.model_copy(update={"explanation": explanation}), removed + n
    return sample, score, removed


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
        safe, score, removed = _safe(sample, scores.get(sample.key))
        print_sample(console, safe, score, args.tail)
        if removed:
            console.print(f"({removed} terminal control sequences removed from the model's text)",
                          highlight=False, markup=False)
        shown += 1
    if not shown:
        listing = "; ".join(f"{name}: {', '.join(sorted(ids)[:20])}" + (" …" if len(ids) > 20 else "")
                            for name, ids in sorted(present.items()))
        listing = strip_controls(listing)[0]
        console.print(f"no samples for problem '{args.problem}' in {run.path}; problems in this "
                      f"run: {listing or 'none yet'}", highlight=False, markup=False)
        return EXIT_USAGE
    return 0
