"""`vt-eval score`: re-grade a run; no model, no GPU."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from vt_eval.errors import ConfigError

NAME = "score"
RESUMABLE = True  # judge verdicts are cached in the run dir
HELP = "re-grade a finished or partial run (no model needed)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path)
    p.add_argument("--exclude", type=Path, help="a decontamination audit dir: also score the clean subset")
    p.add_argument("--timeout", type=float, help="grader timeout per sample, seconds")
    p.add_argument("--workers", type=int, help="grading processes")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run generated code WITHOUT bubblewrap (recorded in results.json)")
    j = p.add_argument_group("LLM judge (for answers rules cannot settle; see vt_eval/judge)")
    j.add_argument("--judge-base-url", help="OpenAI-compatible server of the judge model")
    j.add_argument("--judge-model", help="the judge model's served name (enables the judge)")
    j.add_argument("--judge-scope", choices=["needs_judge", "incorrect", "all"], default="needs_judge",
                   help="needs_judge (default); incorrect: also re-check rule-incorrect answers; "
                        "all: also rule-correct ones (measures rule/judge agreement)")
    j.add_argument("--judge-attempts", type=int, default=3, help="calls before judge_error")
    j.add_argument("--judge-max-tokens", type=int, default=1024)
    j.add_argument("--judge-cache", type=Path, help="cache file (default: RUN/judge_cache.jsonl)")


def run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.grading.base import GradingOptions
    from vt_eval.pipeline import score_run
    from vt_eval.rundir import RunDir
    from vt_eval.terminal import print_results
    run = RunDir(args.run_dir)
    config = run.load_config().with_overrides({  # validated: --timeout nan/inf/0 is refused
        "grading.timeout_s": args.timeout, "grading.workers": args.workers,
        "grading.unsafe_no_sandbox": True if args.unsafe_no_sandbox else None})
    g = config.grading
    options = GradingOptions(g.timeout_s, g.workers, g.unsafe_no_sandbox)
    exclude = None
    if args.exclude:
        from vt_eval.decontam.audit import load_contaminated_ids
        exclude = load_contaminated_ids(args.exclude)
    judge = None
    if args.judge_model or args.judge_base_url:
        if not (args.judge_model and args.judge_base_url):
            raise ConfigError("the judge needs both --judge-base-url and --judge-model")
        from vt_eval.judge import JudgeSettings
        judge = JudgeSettings(base_url=args.judge_base_url, model=args.judge_model,
                              scope=args.judge_scope, attempts=max(1, args.judge_attempts),
                              max_tokens=args.judge_max_tokens, cache_path=args.judge_cache)
    # The audit that excludes items also feeds the scorecard's contamination evidence.
    settings = {"grading": options, "exclude": exclude, "judge": judge,
                "report_audit": args.exclude}
    print_results(console, score_run(run, console, settings))
    return 0
