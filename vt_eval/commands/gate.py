"""`vt-eval gate`: check a run against a score policy; exit 0 pass, 1 violated, 2 cannot vouch.

The figures tested are recomputed from the run's per-sample files (`report.verify`); a missing
file or manifest record, a run or baseline that is not verified, a partial baseline and a missing
baseline for a regression rule are exit 2.

Writes JUnit XML (one test case per rule) and a Markdown summary (also appended to
$GITHUB_STEP_SUMMARY when set). See reports/gate.example.toml for the policy keys.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console

NAME = "gate"
HELP = "CI gate: check a run against a policy (exit 0 pass, 1 rule violated, 2 cannot vouch)"
STYLE = {"pass": "green", "fail": "red", "error": "red", "skipped": "yellow"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path)
    p.add_argument("--policy", type=Path, required=True, help="gate.toml (see reports/gate.example.toml)")
    p.add_argument("--audit", type=Path, help="decontamination audit dir (contamination rules)")
    p.add_argument("--baseline", type=Path, metavar="RUN", help="baseline run (regression rules)")
    p.add_argument("--probes", type=Path, metavar="DIR",
                   help="memorization probe output dir (vt-eval probe; [evidence] rules)")
    p.add_argument("--junit", type=Path, default=Path("gate-junit.xml"),
                   help="JUnit XML output (default: ./gate-junit.xml)")
    p.add_argument("--summary", type=Path, default=Path("gate-summary.md"),
                   help="Markdown summary output (default: ./gate-summary.md)")


def run(args: argparse.Namespace, console: Console) -> int:
    from rich.markup import escape

    from vt_eval.errors import VtEvalError
    from vt_eval.report.gate import RuleResult, evaluate, exit_code
    from vt_eval.report.gate_output import VERDICTS, summary_markdown, write_outputs
    from vt_eval.report.gate_policy import load_gate_policy
    try:
        policy = load_gate_policy(args.policy)
        results = evaluate(policy, args.run_dir, args.audit, args.baseline, args.probes)
    except VtEvalError as exc:
        results = [RuleResult("policy.valid", "error", str(exc))]
    write_outputs(results, str(args.run_dir), args.junit, args.summary)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(summary_markdown(results, str(args.run_dir)))
    for r in results:
        first = r.message.splitlines()[0] if r.message else ""
        console.print(f"[{STYLE[r.status]}]{r.status:7}[/] {escape(r.name)}: {escape(first)}",
                      highlight=False)
    code = exit_code(results)
    console.print(f"gate: {VERDICTS[code]} (JUnit: {args.junit}, summary: {args.summary})",
                  highlight=False, markup=False)
    return code
