"""The probe's outputs: items.jsonl (per item), benchmarks.json (per benchmark, with what each
statistic means and which controls were used) and a table (terminal and table.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table

from vt_eval.probes.compare import STATISTICS
from vt_eval.util import write_json_atomic, write_text_atomic

CAVEAT = ("Evidence, not proof: a benchmark that stands out against post-cutoff controls may have "
          "been seen in training, or may just be easier or more formulaic text for this model; "
          "one that does not stand out may still have been seen (small models memorise little). "
          "See docs/probes.md.")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}" if abs(value) < 100 else f"{value:+.0f}"


def cell(name: str, entry: dict[str, Any]) -> str:
    stat = entry["statistics"][name]
    text = f"{_fmt(stat['value'])} [{_fmt(stat['ci_low'])}, {_fmt(stat['ci_high'])}]"
    versus = entry.get("vs_controls", {}).get(name)
    if versus and versus["value"] is not None:
        mark = " STANDS OUT" if versus["stands_out"] else ""
        p_value = "-" if versus["p_value"] is None else f"{versus['p_value']:.3f}"
        text += f"\nΔ {_fmt(versus['value'])} [{_fmt(versus['ci_low'])}, {_fmt(versus['ci_high'])}] " \
                f"p={p_value}{mark}"
    return text


def rows(benchmarks: dict[str, Any]) -> list[list[str]]:
    return [[name, *(cell(name, entry) for entry in benchmarks.values())] for name in STATISTICS]


def headers(benchmarks: dict[str, Any]) -> list[str]:
    return ["statistic", *(f"{name} ({entry['role']}, n={entry['items']})"
                           for name, entry in benchmarks.items())]


def rich_table(report: dict[str, Any]) -> Table:
    table = Table(title=f"memorization probes: mean [{report['settings']['confidence']:.0%} CI]; "
                        f"Δ = minus the controls ({', '.join(report['controls'])})",
                  title_justify="left", show_lines=True)
    for header in headers(report["benchmarks"]):
        table.add_column(header)
    for row in rows(report["benchmarks"]):
        table.add_row(*row)
    return table


def markdown(report: dict[str, Any]) -> str:
    head = headers(report["benchmarks"])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(c.replace("\n", "<br>") for c in row) + " |"
              for row in rows(report["benchmarks"])]
    meaning = [f"- `{name}` ({kind}): {text}" for name, (kind, text) in STATISTICS.items()]
    return "\n".join([f"# Memorization probes: {report['model']}", "",
                      f"Controls (released after {report['cutoff'] or 'the cutoff'}): "
                      f"{', '.join(report['controls'])}. Higher = more like seen text. "
                      f"Δ: benchmark minus pooled controls, bootstrap CI, one-sided permutation p.",
                      "", *lines, "", *meaning, "", CAVEAT, ""])


def write(out: Path, report: dict[str, Any], items: list[dict[str, Any]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "items.jsonl",
                      "".join(json.dumps(i, ensure_ascii=False, default=str) + "\n" for i in items))
    write_json_atomic(out / "benchmarks.json", report)
    write_text_atomic(out / "table.md", markdown(report))
