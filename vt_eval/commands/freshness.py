"""`vt-eval freshness RUN_DIR --cutoff DATE`: accuracy before vs after the training cutoff."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from vt_eval import cli_options as options
from vt_eval.errors import ConfigError

NAME = "freshness"
HELP = "accuracy on items published before vs after the model's training cutoff (writes freshness.json)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path)
    p.add_argument("--cutoff", required=True, help="the model's training cutoff, YYYY-MM-DD")
    options.add_seed(p, "the bootstrap and the permutations", "the run's seed")
    p.add_argument("--permutations", type=int, default=5000)
    p.add_argument("--bootstrap", type=int, default=2000)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _diff(entry: dict[str, Any]) -> str:
    if entry["value"] is None:
        return "no comparison (one side is empty)"
    p_value = "-" if entry.get("p_value") is None else f"{entry['p_value']:.3f}"
    return (f"{100 * entry['value']:+.1f} pts [{100 * entry['ci_low']:+.1f}, "
            f"{100 * entry['ci_high']:+.1f}] p={p_value}")


def table(result: dict[str, Any]) -> Table:
    out = Table(title=f"freshness: cutoff {result['cutoff']} (items; {result['settings']['confidence']:.0%} CI)",
                title_justify="left")
    for column in ("", "before (<= cutoff)", "after (> cutoff)", "before - after"):
        out.add_column(column)
    b, a = result["before"], result["after"]
    out.add_row("all", f"{_pct(b['accuracy'])} (n={b['items']})", f"{_pct(a['accuracy'])} (n={a['items']})",
                _diff(result["difference"]))
    out.add_row("difficulty-adjusted", ", ".join(result["adjusted_difference"]["strata_compared"]) or "-",
                "", _diff(result["adjusted_difference"]))
    for name, entry in result["benchmarks"].items():
        out.add_row(name, f"{_pct(entry['before']['accuracy'])} (n={entry['before']['items']})",
                    f"{_pct(entry['after']['accuracy'])} (n={entry['after']['items']})", "")
    return out


def run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.dates import parse_date
    from vt_eval.probes.freshness import FreshnessSettings, analyze
    from vt_eval.probes.outcomes import run_outcomes
    from vt_eval.rundir import RunDir
    from vt_eval.util import now_iso, write_json_atomic

    cutoff = parse_date(args.cutoff)
    if cutoff is None or len(args.cutoff.strip()) != 10:
        raise ConfigError(f"--cutoff wants YYYY-MM-DD, got {args.cutoff!r}")
    if args.permutations < 100 or args.bootstrap < 100:
        raise ConfigError("--permutations and --bootstrap need at least 100")
    seed = args.seed if args.seed is not None else RunDir(args.run_dir).manifest().seeds.run_seed
    settings = FreshnessSettings(seed, args.bootstrap, args.permutations)
    result = {"schema_version": 1, "created_at": now_iso(),
              **analyze(run_outcomes(args.run_dir), cutoff, settings)}
    write_json_atomic(args.run_dir / "freshness.json", result)
    console.print(table(result))
    if result["undated_benchmarks"]:
        console.print(f"undated (no [released] in their card, left out): "
                      f"{', '.join(result['undated_benchmarks'])}", markup=False)
    console.print(result["meaning"], highlight=False)
    console.print(f"wrote {args.run_dir / 'freshness.json'}", markup=False)
    return 0
