"""The verdict in the terminal: per benchmark, one row per question and the closing sentence."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from vt_eval.verdict.model import BenchmarkVerdict, Line, Verdict

STYLE = {"evidence_found": "bold red", "no_evidence_found": "green", "not_checked": "yellow"}


def evidence_text(line: Line, sep: str = " · ") -> str:
    """The line's sentence, plus the power of a check that found nothing or why it was not run."""
    if line.state == "not_checked":
        return f"{line.summary}{sep}not checked: {line.reason}"
    if line.state == "no_evidence_found" and line.power is not None:
        return f"{line.summary}{sep}power: {line.power.text()}"
    return line.summary


def benchmark_table(bench: BenchmarkVerdict) -> Table:
    table = Table(title=f"{bench.benchmark}: {bench.title}", title_justify="left",
                  show_lines=True, expand=True)
    table.add_column("question", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("evidence", ratio=1)
    for line in bench.lines:
        table.add_row(line.title, Text(line.state_text, style=STYLE[line.state]),
                      Text(evidence_text(line, "\n")))
    return table


def print_verdict(console: Console, verdict: Verdict) -> None:
    console.print(Text(f"verdict for {verdict.run_id}: integrity {verdict.integrity}",
                       style="bold"))
    for bench in verdict.benchmarks:
        console.print(benchmark_table(bench))
        console.print(Text(f"→ {bench.strongest}", style="bold"))
    for note in verdict.notes:
        console.print(Text(f"note: {note}", style="yellow"))
