"""Terminal output: the per-benchmark table, the list command's tables, a sample's story."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vt_eval.fmt import pct
from vt_eval.records import Sample, Score
from vt_eval.results import BenchmarkResult, RunResults

REFERENCE_MODEL = "VibeThinker-3B"


def _ci(result: BenchmarkResult) -> str:
    if result.ci95 is None:
        return "–"
    return f"{100 * result.ci95[0]:.1f}–{100 * result.ci95[1]:.1f}%"


@dataclass(frozen=True)
class Column:
    header: str
    priority: int  # 0 = always shown; higher = folded into the second table first
    cell: Callable[[BenchmarkResult], str]
    present: Callable[[BenchmarkResult], bool] | None = None  # optional column: shown if any


def _clr(r: BenchmarkResult) -> float | None:
    """CLR accuracy from the CLR stage's extra metrics (vt_eval/clr/metrics.py), if any."""
    raw = r.extra_metrics.get("clr")
    value = raw.get("clr_accuracy") if isinstance(raw, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _pass_k(r: BenchmarkResult) -> str:
    if not r.pass_at_k:
        return "–"
    label, value = list(r.pass_at_k.items())[-1]
    return f"{pct(value)} @{label.removeprefix('pass@')}"


def _items(r: BenchmarkResult) -> str:
    text = f"{r.items_scored}/{r.items_planned}"
    return text + (f" +{r.items_needing_judge}j" if r.items_needing_judge else "")


def _reference(r: BenchmarkResult) -> str:
    return f"{r.reference[REFERENCE_MODEL]:.1f}%" if REFERENCE_MODEL in r.reference else "–"


COLUMNS = (
    Column("avg@k", 0, lambda r: pct(r.avg_at_k)),
    Column("95% CI", 1, _ci),
    Column(REFERENCE_MODEL, 1, _reference),
    Column("items", 2, _items),
    Column("k", 2, lambda r: str(r.k)),
    Column("maj@k", 3, lambda r: pct(r.maj_at_k)),
    Column("CLR", 3, lambda r: pct(_clr(r)), lambda r: _clr(r) is not None),
    Column("pass@k", 4, _pass_k),
    Column("truncated", 5, lambda r: pct(r.truncation_rate)),
    Column("no answer", 6, lambda r: pct(r.no_answer_rate)),
    Column("ungraded", 7, lambda r: str(r.ungraded_samples)),
    Column("mean tokens", 8, lambda r: "–" if r.mean_response_tokens is None
           else f"{r.mean_response_tokens:.0f}"),
)


def _name(r: BenchmarkResult) -> str:
    return r.benchmark + ("" if r.complete else " (partial)")


def _table(results: RunResults, columns: Sequence[Column], title: str | None) -> Table:
    table = Table(title=title, title_justify="left")
    width = max([len("benchmark")] + [len(_name(r)) for r in results.benchmarks])
    table.add_column("benchmark", no_wrap=True, min_width=width)
    for column in columns:
        table.add_column(column.header, justify="right", no_wrap=True)
    for r in results.benchmarks:
        table.add_row(escape(_name(r)), *(column.cell(r) for column in columns))
    return table


def _natural_width(table: Table) -> int:
    """The width the table needs to show every cell uncut (measured on an unbounded console)."""
    return Console(width=10_000, file=io.StringIO()).measure(table).maximum


def _fit(results: RunResults, columns: list[Column], width: int) -> tuple[list[Column], list[Column]]:
    """The columns that fit in `width` (lowest priority dropped first) and the rest."""
    shown, rest = list(columns), []
    while len(shown) > 1 and _natural_width(_table(results, shown, None)) > width:
        lowest = max(shown, key=lambda c: (c.priority, COLUMNS.index(c)))
        shown.remove(lowest)
        rest.append(lowest)
    return shown, sorted(rest, key=COLUMNS.index)


def layout(results: RunResults, width: int) -> list[list[Column]]:
    """Column groups, one table each, for a `width`-column terminal: the first holds the most
    important columns; lower-priority ones fold into the next tables. The name is never cut."""
    groups, rest = [], [c for c in COLUMNS
                        if c.present is None or any(c.present(r) for r in results.benchmarks)]
    while rest:
        shown, rest = _fit(results, rest, width)
        groups.append(shown)
    return groups


def results_tables(results: RunResults, console: Console) -> list[Table | str]:
    """The results table; on a narrow terminal, further tables with the folded columns, each
    announced by a line saying which columns moved."""
    groups = layout(results, console.width)
    out: list[Table | str] = [_table(results, groups[0], f"vt-eval results: {results.run_id}")]
    for group in groups[1:]:
        out.append(f"{console.width} columns: {', '.join(c.header for c in group)} moved to "
                   f"the table below")
        out.append(_table(results, group, None))
    return out


def results_table(results: RunResults) -> Table:
    """Every column in one table (for wide consoles and files)."""
    return _table(results, layout(results, 10_000)[0], f"vt-eval results: {results.run_id}")


def print_results(console: Console, results: RunResults) -> None:
    for part in results_tables(results, console):
        if isinstance(part, str):
            console.print(part, style="dim", highlight=False, markup=False)
        else:
            console.print(part)
    for r in results.benchmarks:
        if r.clean is not None:
            console.print(f"{r.benchmark}: clean subset ({r.clean.items} items, "
                          f"{len(r.clean.excluded_items)} excluded): avg@k {pct(r.clean.avg_at_k)}")
        for warning in r.warnings:
            console.print(f"[yellow]warning[/] {r.benchmark}: {escape(warning)}")
        if r.ungraded_samples:
            console.print(f"[yellow]warning[/] {r.benchmark}: {r.ungraded_samples} sample(s) could "
                          f"not be graded (timeout/error); they count as not correct")
    for r in results.benchmarks:
        for line in r.summary:
            console.print(f"{r.benchmark}: {line}", highlight=False, markup=False)
    for warning in results.warnings:
        console.print(f"[yellow]warning[/] {escape(warning)}")
    console.print("avg@k = mean accuracy over k samples (\"Pass@1\" in the papers); "
                  f"{REFERENCE_MODEL}: published avg@k (arXiv 2606.16140); scorecard: "
                  "scorecard.html in the run dir.", highlight=False)


def print_sample(console: Console, sample: Sample, score: Score | None, tail_chars: int) -> None:
    console.rule(f"{sample.benchmark} / {sample.item_id} / sample {sample.sample_index}")
    for message in sample.messages:
        console.print(f"[bold]{message['role']}[/]: {escape(message['content'])}", highlight=False)
    tail = sample.response[-tail_chars:]
    cut = len(sample.response) - len(tail)
    console.print(f"[bold]response[/] ({len(sample.response)} chars, {sample.completion_tokens} "
                  f"tokens, finish: {sample.finish_reason})" + (f", last {tail_chars} shown" if cut else ""))
    console.out(("…" if cut else "") + tail, highlight=False)
    if score is None:
        console.print("[yellow]not scored yet[/] (run: vt-eval score RUN_DIR)")
        return
    console.print(f"[bold]extracted[/]: {escape(repr(score.extracted))}", highlight=False)
    console.print(f"[bold]gold[/]: {escape(repr(score.gold))}", highlight=False)
    console.print(f"[bold]verdict[/]: {score.verdict}  ({score.grader})")
    console.print(f"[bold]why[/]: {escape(score.explanation)}", highlight=False)

