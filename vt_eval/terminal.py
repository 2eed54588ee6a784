"""Terminal output: the per-benchmark table, the list command's tables, a sample's story."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vt_eval.records import Sample, Score
from vt_eval.results import BenchmarkResult, RunResults

REFERENCE_MODEL = "VibeThinker-3B"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _ci(result: BenchmarkResult) -> str:
    if result.ci95 is None:
        return "–"
    return f"[{100 * result.ci95[0]:.1f}, {100 * result.ci95[1]:.1f}]"


def results_table(results: RunResults) -> Table:
    table = Table(title=f"vt-eval results: {results.run_id}", title_justify="left")
    for column in ("benchmark", "items", "k", "avg@k", "95% CI", "pass@k", "maj@k", "no answer",
                   "truncated", "ungraded", "mean tokens", f"{REFERENCE_MODEL} (paper)"):
        table.add_column(column, justify="left" if column == "benchmark" else "right")
    for r in results.benchmarks:
        pass_k = list(r.pass_at_k.items())[-1] if r.pass_at_k else ("pass@k", None)
        items = f"{r.items_scored}/{r.items_planned}"
        if r.items_needing_judge:
            items += f" (+{r.items_needing_judge} judge)"
        table.add_row(
            r.benchmark + ("" if r.complete else " (partial)"), items, str(r.k), _pct(r.avg_at_k),
            _ci(r), f"{_pct(pass_k[1])} ({pass_k[0]})", _pct(r.maj_at_k), _pct(r.no_answer_rate),
            _pct(r.truncation_rate), str(r.ungraded_samples),
            "–" if r.mean_response_tokens is None else f"{r.mean_response_tokens:.0f}",
            f"{r.reference[REFERENCE_MODEL]:.1f}" if REFERENCE_MODEL in r.reference else "–",
        )
    return table


def print_results(console: Console, results: RunResults) -> None:
    console.print(results_table(results))
    for r in results.benchmarks:
        if r.clean is not None:
            console.print(f"{r.benchmark}: clean subset ({r.clean.items} items, "
                          f"{len(r.clean.excluded_items)} excluded): avg@k {_pct(r.clean.avg_at_k)}")
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
    console.print("avg@k = mean accuracy over k samples (\"Pass@1\" in the papers); reference: "
                  "VibeThinker-3B report (arXiv 2606.16140).")


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

