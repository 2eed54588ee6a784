"""`vt-eval report`: write a run's scorecard.html and scorecard.md (also done by run and score)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from rich.console import Console

from vt_eval.errors import ConfigError

NAME = "report"
HELP = "write the HTML scorecard and its Markdown twin into a run directory"


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path)
    p.add_argument("--audit", type=Path, help="a decontamination audit dir: contaminated items "
                                              "with their evidence, clean-subset score")
    p.add_argument("--compare", type=Path, metavar="OTHER_RUN",
                   help="another run: paired per-benchmark comparison")
    p.add_argument("--intersection", action="store_true",
                   help="with --compare: compare on the problems both runs scored")
    p.add_argument("--cutoff", type=iso_date, metavar="DATE",
                   help="the model's training cutoff (marked on the accuracy-by-date plot)")


def run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.report.scorecard import write_scorecard
    if args.intersection and args.compare is None:
        raise ConfigError("--intersection needs --compare OTHER_RUN")
    written = write_scorecard(args.run_dir, args.audit, args.compare, args.cutoff,
                              args.intersection)
    card = written.card
    console.print(f"scorecard ({card.status}): {written.html}\nMarkdown: {written.markdown}",
                  highlight=False, markup=False)
    if card.plots_note:
        console.print(card.plots_note, highlight=False, markup=False)
    for problem in card.integrity:
        console.print(f"warning: results.json: {problem}", highlight=False, markup=False)
    return 0
