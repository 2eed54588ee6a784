"""The `vt-eval` command line: one module per command under vt_eval/commands/."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from rich.console import Console
from rich.markup import escape

from vt_eval import __version__
from vt_eval.commands import (clr, compare, freshness, gate, list_, probe, report, run, score,
                              show, verdict)
from vt_eval.errors import BackendError, VtEvalError

EXIT_USAGE, EXIT_BACKEND = 2, 3
DESCRIPTION = ("Evaluate small reasoning models and check whether a score is real: "
               "`vt-eval run` measures, `vt-eval verdict RUN` says what the evidence shows.")
# A new command is one module in vt_eval/commands/ plus one entry here.
COMMANDS: tuple[ModuleType, ...] = (run, score, show, list_, report, verdict, compare, gate, clr,
                                    probe, freshness)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vt-eval", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"vt-eval {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        # argparse %-formats help text: a literal "95% CI" would crash --help.
        command.add_arguments(sub.add_parser(command.NAME, help=command.HELP.replace("%", "%%"),
                                             description=command.HELP))
    sub.add_parser("decontam", help="audit training data against the benchmarks (see decontam -h)",
                   add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Library progress bars (GGUF de-quantisation, downloads) would interleave with ours; tqdm
    # reads this once, when first imported, so it is set before anything imports it.
    os.environ.setdefault("TQDM_DISABLE", "1")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["decontam"]:
        from vt_eval.decontam.cli import main as decontam_main
        return decontam_main(argv[1:])
    parser = build_parser()
    if not argv:  # a newcomer's first command: the commands and what they do, not just an error
        parser.print_help()
        return EXIT_USAGE
    args = parser.parse_args(argv)
    console = Console()
    if not console.is_terminal:  # logs and CI: wide enough for the results table
        console = Console(width=200)
    command = {c.NAME: c for c in COMMANDS}[args.command]
    # Commands that keep finished work (RESUMABLE = True) say how to continue after a stop.
    resume = (" Finished work is kept; run the same command again to resume."
              if getattr(command, "RESUMABLE", False) else "")
    try:
        return int(command.run(args, console))
    except BackendError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}\n{resume.strip()}", highlight=False)
        return EXIT_BACKEND
    except VtEvalError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        console.print(f"interrupted.{resume}", highlight=False)
        return 130


if __name__ == "__main__":
    sys.exit(main())
