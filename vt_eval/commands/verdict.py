"""`vt-eval verdict RUN`: is this score real? One line per question, per benchmark."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from vt_eval.errors import ConfigError

NAME = "verdict"
EXIT_UNVERIFIED = 2  # as gate, compare and report: the run's files disagree
HELP = ("is this score real? per benchmark: claim vs measured, training overlap, freshness, "
        "memorization probes, reproducibility")


def claim(text: str) -> tuple[str, float]:
    name, _, score = text.partition("=")
    try:
        value = float(score.strip().rstrip("%"))
    except ValueError:
        value = float("nan")
    if not name.strip() or not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"wants BENCH=SCORE with SCORE a percentage 0-100 "
                                         f"(e.g. aime_2025=91.4), got {text!r}")
    return name.strip(), value / 100


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path, nargs="?", help="the run directory (not needed with --schema)")
    p.add_argument("--audit", type=Path, help="a decontamination audit dir (vt-eval decontam audit)")
    p.add_argument("--probes", type=Path, metavar="DIR",
                   help="a memorization probe output dir (vt-eval probe)")
    p.add_argument("--claim", type=claim, action="append", default=[], metavar="BENCH=SCORE",
                   help="the published score in percent (repeatable; default: [claims] of the "
                        "run's config, else the card's reference figure for this model)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--schema", action="store_true",
                   help="print the JSON Schema of --format json and exit")


def run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.cards import get_card
    from vt_eval.verdict.build import build_verdict
    from vt_eval.verdict.schema import SCHEMA_FILE
    from vt_eval.verdict.text import print_verdict
    if args.schema:
        print(SCHEMA_FILE.read_text(encoding="utf-8"), end="")
        return 0
    if args.run_dir is None:
        raise ConfigError("which run? vt-eval verdict RUN_DIR [--audit DIR] [--probes DIR]")
    claims = dict(args.claim)
    for name in claims:
        get_card(name)  # an unknown benchmark is a usage error, with suggestions
    verdict = build_verdict(args.run_dir, args.audit, args.probes, claims)
    unknown = sorted(set(claims) - {b.benchmark for b in verdict.benchmarks})
    if unknown:
        raise ConfigError(f"--claim names benchmarks this run does not have: {', '.join(unknown)}")
    if args.format == "json":
        print(verdict.model_dump_json(indent=2))
    else:
        print_verdict(console, verdict)
    if not verdict.integrity.startswith("verified"):
        print(f"exit 2: the run's integrity is not verified ({verdict.integrity}); see the "
              f"reproducibility lines", file=sys.stderr)
        return EXIT_UNVERIFIED
    return 0
