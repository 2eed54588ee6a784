"""The `vt-eval` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from vt_eval import __version__
from vt_eval.config import EvalConfig, load_config
from vt_eval.errors import BackendError, ConfigError, VtEvalError

EXIT_USAGE, EXIT_BACKEND = 2, 3


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _add_run(sub: Any) -> None:
    p = sub.add_parser("run", help="generate, score and summarise a run (resumes if it exists)")
    p.add_argument("--config", type=Path, help="eval.toml (default: ./eval.toml if present)")
    p.add_argument("--model", help="alias, checkpoint directory, or a served model's name")
    p.add_argument("--suite", help="math (default), or another suite from `vt-eval list`")
    p.add_argument("--benchmarks", type=_comma_list, help="comma-separated, e.g. aime_2025,hmmt_feb_2025")
    p.add_argument("--limit", type=int, help="items per benchmark (0 = all)")
    p.add_argument("-k", "--samples", type=int, help="samples per item (default: each card's k)")
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
    code = p.add_argument_group("code suite")
    code.add_argument("--since", help="LiveCodeBench: contest date >= YYYY-MM-DD")
    code.add_argument("--until", help="LiveCodeBench: contest date <= YYYY-MM-DD")
    code.add_argument("--contest-after", help="LeetCode contests: only problems after YYYY-MM-DD")
    code.add_argument("--unsafe-no-sandbox", action="store_true", default=None,
                      help="run generated code WITHOUT bubblewrap (recorded in the manifest)")


def _add_score(sub: Any) -> None:
    p = sub.add_parser("score", help="re-grade a finished or partial run (no model needed)")
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


def _add_show(sub: Any) -> None:
    p = sub.add_parser("show", help="print one problem's samples with verdicts and explanations")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--problem", required=True, help="item id (see results.json per_item)")
    p.add_argument("--benchmark", help="needed when several benchmarks share the id")
    p.add_argument("--sample", type=int, help="only this sample index")
    p.add_argument("--tail", type=int, default=1200, help="response characters to show")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vt-eval", description=__doc__)
    parser.add_argument("--version", action="version", version=f"vt-eval {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    _add_score(sub)
    _add_show(sub)
    sub.add_parser("list", help="suites, benchmarks and models")
    sub.add_parser("decontam", help="audit training data against the benchmarks (see decontam -h)",
                   add_help=False)
    return parser


def run_config(args: argparse.Namespace) -> EvalConfig:
    path = args.config or (Path("eval.toml") if Path("eval.toml").is_file() else None)
    return load_config(path).with_overrides({
        "model.name": args.model, "model.backend": args.backend, "model.base_url": args.base_url,
        "run.suite": args.suite, "run.benchmarks": args.benchmarks, "run.limit": args.limit,
        "run.samples": args.samples, "run.out": args.out, "sampling.max_tokens": args.max_tokens,
        "sampling.temperature": args.temperature, "sampling.top_p": args.top_p,
        "sampling.seed": args.seed, "openai.concurrency": args.concurrency,
        "run.since": args.since, "run.until": args.until, "run.contest_after": args.contest_after,
        "grading.unsafe_no_sandbox": args.unsafe_no_sandbox,
    })


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.pipeline import execute_run
    from vt_eval.terminal import print_results
    results = execute_run(run_config(args), args.run_id, args.data_dir, console)
    print_results(console, results)
    return 0


def cmd_score(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.grading.base import GradingOptions
    from vt_eval.pipeline import score_run
    from vt_eval.rundir import RunDir
    from vt_eval.terminal import print_results
    run = RunDir(args.run_dir)
    config = run.load_config()
    options = GradingOptions(args.timeout or config.grading.timeout_s,
                             args.workers or config.grading.workers,
                             args.unsafe_no_sandbox or config.grading.unsafe_no_sandbox)
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
    settings = {"grading": options, "exclude": exclude, "judge": judge}
    print_results(console, score_run(run, console, settings))
    return 0


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.records import Sample, Score
    from vt_eval.rundir import RunDir
    from vt_eval.store import read_records
    from vt_eval.terminal import print_sample
    run = RunDir(args.run_dir)
    run.load_config()
    scores = {s.key: s for s in read_records(run.scores_path, Score)}
    shown = 0
    for sample in read_records(run.samples_path, Sample):
        if sample.item_id != args.problem or (args.benchmark and sample.benchmark != args.benchmark):
            continue
        if args.sample is not None and sample.sample_index != args.sample:
            continue
        print_sample(console, sample, scores.get(sample.key), args.tail)
        shown += 1
    if not shown:
        console.print(f"[red]no samples for problem '{args.problem}' in {run.path}[/]")
        return EXIT_USAGE
    return 0


def cmd_list(console: Console) -> int:
    from vt_eval.cards import all_cards, suites
    from vt_eval.data import load_benchmark
    from vt_eval.models import ALIASES, resolve_model
    console.print("suites: " + ", ".join(f"{name} ({len(b)})" for name, b in sorted(suites().items())))
    table = Table(title="benchmarks", title_justify="left")
    for column in ("name", "suites", "items", "source", "revision", "k", "grader"):
        table.add_column(column)
    for card in all_cards().values():
        try:
            items = str(len(load_benchmark(card, allow_download=False).items))
        except VtEvalError:
            items = "[yellow]not shipped[/] (--data-dir)"
        source = card.source.hf_repo or card.source.repo or "?"
        table.add_row(card.name, ",".join(card.suites), items, source, card.source.revision[:12],
                      str(card.k), card.grader)
    console.print(table)
    models = Table(title="models (aliases; or pass a checkpoint directory)", title_justify="left")
    for column in ("alias", "description", "status"):
        models.add_column(column)
    for name, alias in ALIASES.items():
        try:
            resolve_model(name)
            status = "installed"
        except VtEvalError:
            status = f"missing: {alias.install}"
        models.add_row(name, alias.description, status)
    console.print(models)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["decontam"]:
        from vt_eval.decontam.cli import main as decontam_main
        return decontam_main(argv[1:])
    args = build_parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:  # logs and CI: wide enough for the results table
        console = Console(width=200)
    try:
        if args.command == "run":
            return cmd_run(args, console)
        if args.command == "score":
            return cmd_score(args, console)
        if args.command == "show":
            return cmd_show(args, console)
        return cmd_list(console)
    except BackendError as exc:
        console.print(f"[red]error:[/] {exc}\nFinished samples are kept; run the same command "
                      f"again to resume.", highlight=False)
        return EXIT_BACKEND
    except VtEvalError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        console.print("interrupted; finished samples are kept; run the same command to resume")
        return 130


if __name__ == "__main__":
    sys.exit(main())
