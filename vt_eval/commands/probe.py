"""`vt-eval probe`: memorization probes (completion and likelihood) against post-cutoff controls."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from vt_eval import cli_options as options
from vt_eval.cli_options import comma_list
from vt_eval.config import EvalConfig, validate_config
from vt_eval.errors import ConfigError

if TYPE_CHECKING:
    from vt_eval.probes.settings import ProbeSettings
    from vt_eval.probes.texts import ProbeItem

NAME = "probe"
PROBES = ("completion", "likelihood")
HELP = "memorization probes: completion and likelihood vs post-cutoff controls (needs the model)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    options.add_model(p)
    options.add_benchmarks(p, required=True)
    options.add_out(p, "OUT/RUN_ID/{items.jsonl,benchmarks.json,table.md}")
    options.add_run_id(p, "<model>__probe")
    p.add_argument("--cutoff", help="the model's training cutoff, YYYY-MM-DD: benchmarks released "
                                    "after it are the controls")
    p.add_argument("--controls", type=comma_list, default=(),
                   help="control benchmarks (released after the cutoff); default: those of "
                        "--benchmarks released after --cutoff")
    p.add_argument("--texts", action="append", default=[], metavar="NAME=FILE",
                   help="also probe a text file's paragraphs as benchmark NAME (repeatable)")
    p.add_argument("--probes", type=comma_list, default=PROBES, help="completion,likelihood (default both)")
    options.add_limit(p)
    options.add_config(p, "TOML with [probe] settings and model/backend sections (default: "
                          "./eval.toml if present)")
    options.add_backend(p)
    options.add_base_url(p)
    options.add_data_dir(p)


def config_path(args: argparse.Namespace) -> Path | None:
    return args.config or (Path("eval.toml") if Path("eval.toml").is_file() else None)


def eval_config(args: argparse.Namespace) -> EvalConfig:
    data: dict[str, object] = {}
    path = config_path(args)
    if path:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        data.pop("probe", None)
    config = validate_config(data, str(path or "defaults"))
    return config.with_overrides({"model.name": args.model, "model.backend": args.backend,
                                  "model.base_url": args.base_url})


def out_dir(args: argparse.Namespace, config: EvalConfig) -> Path:
    model = Path(config.model.name.rstrip("/")).name or config.model.name
    name = args.run_id or re.sub(r"[^A-Za-z0-9._+-]+", "-", f"{model}__probe")[:120]
    return Path(args.out or config.run.out) / name


def text_items(spec: str, settings: ProbeSettings) -> list[ProbeItem]:
    from vt_eval.probes.texts import ProbeItem, clip_words, normalize
    name, _, file = spec.partition("=")
    if not name or not file or not Path(file).is_file():
        raise ConfigError(f"--texts wants NAME=FILE with an existing file, got {spec!r}")
    paragraphs = [normalize(p) for p in Path(file).read_text(encoding="utf-8").split("\n\n")]
    return [ProbeItem(name, str(i), clip_words(p, settings.max_words))
            for i, p in enumerate(paragraphs, 1) if len(p.split()) >= 12]


def run(args: argparse.Namespace, console: Console) -> int:
    from vt_eval.backends import make_backend, resolve_backend_name
    from vt_eval.cards import get_card
    from vt_eval.probes import report as probe_report
    from vt_eval.dates import parse_date
    from vt_eval.probes.run import build_report, card_items, probe_records, split_controls
    from vt_eval.probes.settings import load_probe_settings

    settings = load_probe_settings(config_path(args))
    limit = args.limit or 0
    unknown = sorted(set(args.probes) - set(PROBES))
    if unknown or not args.probes:
        raise ConfigError(f"--probes: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(PROBES)}")
    cutoff = parse_date(args.cutoff) if args.cutoff else None
    if args.cutoff and cutoff is None:
        raise ConfigError(f"--cutoff wants YYYY-MM-DD, got {args.cutoff!r}")
    cards = [get_card(name) for name in dict.fromkeys(args.benchmarks + args.controls)]
    suspects, controls = split_controls(cards, [get_card(n) for n in args.controls], cutoff)
    items = [i for card in suspects for i in card_items(card, settings, limit, args.data_dir)]
    for card in controls:
        items += card_items(card, settings, limit, args.data_dir, after=cutoff)
    for spec in args.texts:
        items += text_items(spec, settings)[: limit or None]
    config = eval_config(args)
    out = out_dir(args, config)
    backend = make_backend(config, resolve_backend_name(config))
    try:
        console.print(f"probing {len(items)} texts with {backend.name} ({', '.join(args.probes)})")
        records = probe_records(backend, items, settings, args.probes)
        report = build_report(records, [c.name for c in controls], settings, config.model.name, cutoff,
                              backend.provenance())
    finally:
        backend.close()
    probe_report.write(out, report, records)
    console.print(probe_report.rich_table(report))
    for name, entry in report["benchmarks"].items():
        if entry["role"] == "suspect":
            found = ", ".join(entry.get("stands_out_on", [])) or "nothing (at the configured margins)"
            console.print(f"{name} stands out against the controls on: {found}", highlight=False)
    console.print(probe_report.CAVEAT, highlight=False)
    console.print(f"wrote {out}/benchmarks.json, items.jsonl, table.md", highlight=False, markup=False)
    return 0
