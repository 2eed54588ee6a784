"""Terminal summary (rich tables, worst items first) and the HTML evidence report."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import jinja2
from rich.console import Console
from rich.markup import escape
from rich.table import Table

_TEMPLATE = jinja2.Template("""<!doctype html>
<html><head><meta charset="utf-8"><title>vt-eval decontamination audit</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.bad{color:#b00020;font-weight:600}.ok{color:#1b5e20}pre{white-space:pre-wrap;background:#f6f6f6;padding:6px}
mark{background:#ffe082}
</style></head><body>
<h1>Decontamination audit</h1>
<p>Status: {% if summary.ok %}<span class="ok">complete</span>{% else %}<span class="bad">ERRORS</span>{% endif %}
 &middot; {{ summary.training.rows }} training rows, {{ (summary.training.text_bytes / 1e6)|round(2) }} MB of text
 &middot; policy {{ summary.policy.source }}</p>
{% for e in summary.errors %}<p class="bad">{{ e }}</p>{% endfor %}
<table><tr><th>benchmark</th><th>items</th><th>contaminated</th><th>rate</th></tr>
{% for name, b in summary.benchmarks.items() %}
<tr><td>{{ name }}</td><td>{{ b["items"] }}</td>
<td class="{{ 'bad' if b.contaminated else 'ok' }}">{{ b.contaminated }}</td><td>{{ '%.2f%%'|format(100*b.rate) }}</td></tr>
{% endfor %}</table>
<h2>Evidence ({{ matches|length }} matches{% if truncated %}, first {{ matches|length }} shown{% endif %})</h2>
{% for m in matches %}
<h3>{{ m.benchmark }} / {{ m.item_id }} &larr; {{ m.file }} row {{ m.row }}</h3>
<p>{{ m.method }} n={{ m.n }} &middot; containment {{ m.containment }}
{% if m.jaccard is defined %}&middot; Jaccard {{ m.jaccard }} (estimate {{ m.jaccard_estimate }}){% endif %}
&middot; longest span {{ m.longest_span_tokens }} tokens &middot;
{% if m.counts_by %}<span class="bad">counts ({{ m.counts_by }})</span>{% else %}does not count{% endif %}</p>
{% if m.item_span %}<p>benchmark item chars {{ m.item_span }}:</p><pre>{{ m.item_text }}</pre>
<p>training row chars {{ m.row_span }}{% if m.row_field %} ({{ m.row_field }} {{ m.row_field_span }}){% endif %}:</p>
<pre>{{ m.row_text }}</pre>{% endif %}
{% endfor %}
</body></html>
""", autoescape=True)

MAX_HTML_MATCHES = 500


def write_html(summary: dict[str, Any], matches: list[dict[str, Any]], path: Path) -> None:
    ordered = sorted(matches, key=lambda m: (not m.get("counts_by"), -m.get("containment", 0.0)))
    path.write_text(_TEMPLATE.render(summary=summary, matches=ordered[:MAX_HTML_MATCHES],
                                     truncated=len(ordered) > MAX_HTML_MATCHES), encoding="utf-8")


def _snippet(text: str | None, width: int = 60) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


def print_summary(summary: dict[str, Any], console: Console) -> None:
    """One overview table, then per contaminated benchmark its worst items."""
    training = summary["training"]
    console.print(f"[bold]Audited[/] {training['rows']} rows ({training['text_bytes'] / 1e6:.2f} MB "
                  f"of text) from {len(training['files'])} file(s) in {summary['seconds']} s; "
                  f"{training['skipped_rows']} row(s) skipped.")
    overview = Table(title="Contamination by benchmark")
    for column in ("benchmark", "items", "contaminated", "rate", "items with any match"):
        overview.add_column(column, justify="left" if column == "benchmark" else "right")
    for name, bench in summary["benchmarks"].items():
        style = "red" if bench["contaminated"] else "green"
        overview.add_row(name, str(bench["items"]), f"[{style}]{bench['contaminated']}[/]",
                         f"{100 * bench['rate']:.2f}%", str(len(bench["matched_ids"])))
    console.print(overview)
    for name, bench in summary["benchmarks"].items():
        if not bench["worst"]:
            continue
        table = Table(title=f"{name}: worst items")
        for column in ("item", "method", "containment", "span (tokens)", "counts", "training row"):
            table.add_column(column)
        for w in bench["worst"]:
            table.add_row(html.unescape(w["item_id"]), f"{w['method']} n={w['n']}",
                          f"{w['containment']:.2f}", str(w["longest_span_tokens"]),
                          "yes" if w["counts"] else "no", f"{w['file']}:{w['row']}")
        console.print(table)
    for error in summary["errors"]:
        console.print(f"[red]error:[/] {escape(str(error))}", highlight=False)
