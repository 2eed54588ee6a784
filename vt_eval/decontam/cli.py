"""`vt-eval decontam audit|check|filter` (also `python -m vt_eval.decontam.cli ...`).

Exit codes: 0 ok / policy holds, 1 policy violated, 2 usage or input error (fail closed).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import traceback
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from vt_eval.decontam.audit import AuditConfig, load_benchmark_items, run_audit, write_outputs
from vt_eval.decontam.gate import EXIT_ERROR, EXIT_OK, EXIT_VIOLATED, check
from vt_eval.decontam.policy import check_gate_names, load_policy
from vt_eval.decontam.readers import ShardError
from vt_eval.decontam.scan import ScanOptions
from vt_eval.errors import VtEvalError


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vt-eval decontam", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    audit = sub.add_parser("audit", help="audit training data against benchmarks")
    audit.add_argument("--train", action="append", required=True, metavar="PATH",
                       help="training file or glob (repeatable): .jsonl .json .parquet .txt, +.gz/.zst")
    audit.add_argument("--suite", help="benchmark suite (default math; 'all' = every card)")
    audit.add_argument("--benchmarks", help="comma-separated benchmark names (overrides --suite)")
    audit.add_argument("--out", required=True, type=Path, help="output folder")
    audit.add_argument("--policy", type=Path, help="policy TOML (default decontam/policy.toml)")
    audit.add_argument("--text-field", action="append", metavar="FIELD",
                       help="field(s) to audit, dotted paths, repeatable (default: every string in the row)")
    audit.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    audit.add_argument("--engine", choices=("local", "ray"), default="local")
    audit.add_argument("--chunk-mb", type=float, default=32.0, help="MB of a line file per task")
    audit.add_argument("--max-line-mb", type=float, default=16.0,
                       help="longer lines are streamed in pieces of this size (bounded memory)")
    audit.add_argument("--no-progress", action="store_true")
    audit.add_argument("--no-sha256", action="store_true", help="skip hashing the training files")
    chk = sub.add_parser("check", help="exit 0 if the audit satisfies the policy, 1 if not, 2 on error")
    chk.add_argument("audit_dir", type=Path)
    chk.add_argument("--policy", type=Path)
    flt = sub.add_parser("filter", help="write the training set without contaminated rows")
    flt.add_argument("--train", action="append", required=True, metavar="PATH")
    flt.add_argument("--audit", required=True, type=Path)
    flt.add_argument("--out", required=True, type=Path, help="output JSONL file")
    flt.add_argument("--all-matches", action="store_true",
                     help="drop every matching row, not only those that count under the policy")
    return parser


def _expand(patterns: list[str]) -> list[Path]:
    paths: list[Path] = []
    for pattern in patterns:
        found = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not found:
            raise _UsageError(f"--train {pattern}: no file matches")
        paths.extend(Path(p) for p in found)
    return paths


def _benchmark_names(suite: str | None, benchmarks: str | None) -> list[str]:
    from vt_eval.cards import select_cards

    names = tuple(b.strip() for b in benchmarks.split(",") if b.strip()) if benchmarks else ()
    return [card.name for card in select_cards(suite, names)]


def _fields(raw: list[str] | None) -> tuple[str, ...] | None:
    if not raw:
        return None
    return tuple(f.strip() for item in raw for f in item.split(",") if f.strip())


def _audit(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.cards import all_cards

    policy = load_policy(args.policy)
    check_gate_names(policy, set(all_cards()))
    train = _expand(args.train)
    names = _benchmark_names(args.suite, args.benchmarks)
    uncovered = sorted(set(policy.gate.max_items) - set(names))
    if uncovered:
        print(f"note: {policy.source} caps gate.max_items for {uncovered}, which this audit does not "
              f"cover; `decontam check` will refuse it (exit 2) under that policy", file=sys.stderr)
    bench = load_benchmark_items(names)
    options = ScanOptions(text_fields=_fields(args.text_field),
                          max_line_bytes=max(1 << 12, int(args.max_line_mb * (1 << 20))))
    config = AuditConfig(engine=args.engine, workers=max(1, args.workers),
                         chunk_bytes=max(1 << 16, int(args.chunk_mb * (1 << 20))),
                         hash_files=not args.no_sha256, options=options)
    total = sum(p.stat().st_size for p in train if p.is_file())
    progress = Progress(TextColumn("[bold]auditing"), BarColumn(), TextColumn("{task.fields[rows]} rows"),
                        TransferSpeedColumn(), TimeRemainingColumn(), console=console,
                        disable=args.no_progress)
    with progress:
        bar = progress.add_task("audit", total=max(total, 1), rows=0)
        rows = [0]

        def advance(result, task) -> None:  # type: ignore[no-untyped-def]
            rows[0] += result.rows
            size = (task.end - task.start) if task.end >= 0 and task.shard.fmt != "parquet" else None
            progress.update(bar, advance=size if size is not None else task.shard.size, rows=rows[0])

        outcome = run_audit(train, bench, policy, config, advance)
    write_outputs(outcome, args.out)
    from vt_eval.decontam.report import print_summary, write_html

    write_html(outcome.summary, outcome.matches, args.out / "report.html")
    print_summary(outcome.summary, console)
    console.print(f"wrote {args.out / 'matches.jsonl'}, {args.out / 'summary.json'}, {args.out / 'report.html'}")
    return EXIT_ERROR if outcome.errors else EXIT_OK


def _check(args: argparse.Namespace, console: Console) -> int:
    verdict = check(args.audit_dir, load_policy(args.policy))
    for line in verdict.lines:
        print(line)
    return verdict.code if verdict.code in (EXIT_OK, EXIT_VIOLATED) else EXIT_ERROR


def _filter(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.decontam.filter import run_filter

    reports = run_filter(_expand(args.train), args.audit, args.out, args.all_matches)
    for rep in reports:
        dropped = ", ".join(f"{k}: {v}" for k, v in sorted(rep.dropped.items())) or "none"
        print(f"{rep.path}: {rep.rows} rows, kept {rep.kept}, dropped {dropped}")
        for example in rep.examples:
            print(f"  dropped {example}")
    print(f"wrote {args.out}")
    return EXIT_OK


def main(argv: list[str]) -> int:
    """Entry point for `vt-eval decontam ...`; returns the exit code."""
    console = Console(stderr=False, highlight=False)
    try:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exc:  # --help
            return int(exc.code or 0)
        handler = {"audit": _audit, "check": _check, "filter": _filter}[args.command]
        return handler(args, console)
    except _UsageError as exc:
        print(f"usage error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (VtEvalError, ShardError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - fail closed: never exit 0/1 on a crash
        traceback.print_exc(file=sys.stderr)
        print(f"error: internal error ({type(exc).__name__}: {exc}); nothing is vouched for "
              f"(exit {EXIT_ERROR})", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
