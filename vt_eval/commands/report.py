"""`vt-eval report`: write a run's scorecard.html and scorecard.md (also done by run and score).

The run (and a --compare run) goes through the gate's checks first. Exit 0: scorecard written,
nothing to flag. Exit 2: a file or manifest record is missing (nothing written), or the scorecard
was written with the integrity banner (results.json disagrees with the per-sample files, or the
comparison run is unverified or partial); the last line says why.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from rich.console import Console

from vt_eval.errors import ConfigError

NAME = "report"
HELP = ("write the HTML scorecard and its Markdown twin into a run directory (exit 2 when it "
        "had to show the integrity banner)")
EXIT_OK, EXIT_UNTRUSTED = 0, 2


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
    p.add_argument("--probes", type=Path, metavar="DIR",
                   help="a memorization probe output dir (vt-eval probe): its verdict line and "
                        "the flagged items with the probe's prompt and the model's continuation")


def run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.report.scorecard import write_scorecard
    if args.intersection and args.compare is None:
        raise ConfigError("--intersection needs --compare OTHER_RUN")
    written = write_scorecard(args.run_dir, args.audit, args.compare, args.cutoff,
                              args.intersection, probes=args.probes)
    card = written.card
    console.print(f"scorecard ({card.status}): {written.html}\nMarkdown: {written.markdown}",
                  highlight=False, markup=False)
    if card.plots_note:
        console.print(card.plots_note, highlight=False, markup=False)
    for problem in card.integrity:
        console.print(f"integrity: {problem}", highlight=False, markup=False)
    if card.integrity:
        more = f" (and {len(card.integrity) - 1} more above)" if len(card.integrity) > 1 else ""
        console.print(f"report: NOT VERIFIED (exit {EXIT_UNTRUSTED}), the scorecard carries the "
                      f"integrity banner: {card.integrity[0]}{more}", highlight=False, markup=False,
                      soft_wrap=True)
        return EXIT_UNTRUSTED
    return EXIT_OK
