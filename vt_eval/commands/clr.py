"""`vt-eval clr RUN_DIR`: CLR (Claim-Level Reliability) on an existing run's samples.

No regeneration: the run's samples and scores are read, the model (the run's backend, or
--backend/--base-url for this command only) extracts and verifies claims, and results.json is
re-aggregated with CLR beside maj@K/pass@K/avg@K. Resumes after a kill; recorded calls are reused,
so re-running with another K or R (same prompts and sampling) needs no new calls for drawn
trajectories that were already checked.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from vt_eval import cli_options as options

NAME = "clr"
RESUMABLE = True  # recorded extraction and verification calls are kept
HELP = "Claim-Level Reliability test-time scaling on a run's samples (no regeneration)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path)
    p.add_argument("-k", "--k", type=options.positive_int,
                   help="samples per problem that CLR draws per repetition (default: [clr] k = 32)")
    p.add_argument("--m", type=int, help="claims per trajectory (default: [clr] m = 5)")
    p.add_argument("--repetitions", type=int, help="independent repetitions (default: [clr] "
                   "repetitions = 8)")
    p.add_argument("--config", type=Path, help="a TOML file whose [clr] section replaces the run's")
    options.add_backend(p, scope=" the run was made with; this command only")
    options.add_base_url(p)


def run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.config import load_config
    from vt_eval.pipeline import clr_run
    from vt_eval.rundir import RunDir
    from vt_eval.terminal import print_results
    run_dir = RunDir(args.run_dir)
    config = run_dir.load_config()
    if args.config:
        config = config.with_overrides({f"clr.{key}": value for key, value in
                                        load_config(args.config).clr.model_dump().items()})
    config = config.with_overrides({
        "clr.enabled": True, "clr.k": args.k, "clr.m": args.m,
        "clr.repetitions": args.repetitions, "model.backend": args.backend,
        "model.base_url": args.base_url})
    print_results(console, clr_run(run_dir, config, console))
    return 0
