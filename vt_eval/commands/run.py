"""`vt-eval run`: generate, grade and summarise a run (resumes if it exists)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from vt_eval.config import EvalConfig, load_config

NAME = "run"
RESUMABLE = True  # finished samples are kept
HELP = "generate, score and summarise a run (resumes if it exists)"


def comma_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value}); leave it out for "
                                         f"each benchmark's default k")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="eval.toml (default: ./eval.toml if present)")
    p.add_argument("--model", help="alias, checkpoint directory, or a served model's name")
    p.add_argument("--suite", help="math (default), or another suite from `vt-eval list`")
    p.add_argument("--benchmarks", type=comma_list, help="comma-separated, e.g. aime_2025,hmmt_feb_2025")
    p.add_argument("--limit", type=int, help="items per benchmark (0 = all)")
    p.add_argument("-k", "--samples", type=positive_int,
                   help="samples per item (default: each card's k)")
    p.add_argument("--max-tokens", type=int, help="max new tokens per response")
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--backend", choices=["auto", "vllm", "openai", "transformers"])
    p.add_argument("--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--concurrency", type=int, help="parallel requests (openai backend)")
    p.add_argument("--out", help="parent folder of run directories (default: runs)")
    p.add_argument("--run-id", help="run directory name (default: <model>__<suite>)")
    p.add_argument("--data-dir", type=Path, help="folder with benchmark files (before the snapshot)")
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
        "sampling.seed": args.seed, "openai.concurrency": args.concurrency,
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
