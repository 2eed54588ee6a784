"""`vt-eval run`: generate, grade and summarise a run (resumes if it exists)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from vt_eval import cli_options as options
from vt_eval.config import EvalConfig, load_config

NAME = "run"
RESUMABLE = True  # finished samples are kept
HELP = "generate, score and summarise a run (resumes if it exists)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    options.add_config(p, "eval.toml (default: ./eval.toml if present)")
    options.add_model(p)
    p.add_argument("--suite", help="math (default), or another suite from `vt-eval list`")
    options.add_benchmarks(p)
    options.add_limit(p)
    options.add_samples(p, "each card's k")
    p.add_argument("--max-tokens", type=int, help="max new tokens per response")
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-p", type=float)
    options.add_seed(p, "the run (each sample's seed derives from it)", "[sampling] seed, 0")
    options.add_backend(p)
    options.add_base_url(p)
    p.add_argument("--concurrency", type=int, help="parallel requests (openai backend)")
    p.add_argument("--ray", metavar="ADDRESS", help="generate on a Ray cluster: local (start one "
                   "in this run), auto (join the running one) or HOST:PORT (default: [ray] address "
                   "of the config, none; docs/scale.md)")
    options.add_out(p, "OUT/RUN_ID")
    options.add_run_id(p, "<model>__<suite>")
    options.add_data_dir(p)
    p.add_argument("--tts", choices=["clr"], help="test-time scaling after grading: clr = Claim-Level "
                   "Reliability ([clr] in eval.toml; -k defaults to its K = 32; docs/clr.md)")
    code = p.add_argument_group("code suite")
    code.add_argument("--since", help="LiveCodeBench: contest date >= YYYY-MM-DD")
    code.add_argument("--until", help="LiveCodeBench: contest date <= YYYY-MM-DD")
    code.add_argument("--contest-after", help="LeetCode contests: only problems after YYYY-MM-DD")
    code.add_argument("--unsafe-no-sandbox", action="store_true", default=None,
                      help="run generated code WITHOUT bubblewrap (recorded in the manifest)")


def run_config(args: argparse.Namespace) -> EvalConfig:
    path = args.config or (Path("eval.toml") if Path("eval.toml").is_file() else None)
    config = load_config(path).with_overrides({
        "model.name": args.model, "model.backend": args.backend, "model.base_url": args.base_url,
        "run.suite": args.suite, "run.benchmarks": args.benchmarks, "run.limit": args.limit,
        "run.samples": args.samples, "run.out": args.out, "sampling.max_tokens": args.max_tokens,
        "sampling.temperature": args.temperature, "sampling.top_p": args.top_p,
        "sampling.seed": args.seed, "openai.concurrency": args.concurrency, "ray.address": args.ray,
        "run.since": args.since, "run.until": args.until, "run.contest_after": args.contest_after,
        "grading.unsafe_no_sandbox": args.unsafe_no_sandbox,
        "clr.enabled": True if args.tts == "clr" else None,
    })
    if config.clr.enabled and not config.run.samples:  # CLR draws K samples per problem
        config = config.with_overrides({"run.samples": config.clr.k})
    return config


def run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.pipeline import execute_run
    from vt_eval.terminal import print_results
    results = execute_run(run_config(args), args.run_id, args.data_dir, console)
    print_results(console, results)
    return 0
